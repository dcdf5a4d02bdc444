using DePIN.Silo.Extensions;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddDePINSilo();
builder.AddDePINApi();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapDePINApi();
app.Run();
