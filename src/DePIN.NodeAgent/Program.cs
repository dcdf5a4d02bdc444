using DePIN.NodeAgent;

var builder = WebApplication.CreateBuilder(args);
builder.Configuration.AddCommandLine(args, AgentOptions.SwitchMappings);
builder.AddServiceDefaults();
builder.AddNodeAgent();

var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();
