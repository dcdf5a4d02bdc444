using DePIN.Silo.Extensions;

SiloHost.Create(WebApplication.CreateBuilder(args)).Run();
