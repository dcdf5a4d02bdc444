using Microsoft.Extensions.Configuration;
using Aspire.Hosting.Orleans;
using DePIN.AppHost;

var builder = DistributedApplication.CreateBuilder(args);

var (database, postgres) = builder.AddDePINPostgres();

// Cluster and service ids are fixed: grain state is keyed by the service id, so it must not change between runs.
// The silos configure ADO.NET clustering themselves from ConnectionStrings:depin.
var orleans = builder.AddOrleans("depin")
    .WithClusterId("depin")
    .WithServiceId("depin")
    .WithClustering(new SiloConfiguredClustering());

// Operators create tenants over HTTP with this key; the silos are given only its hash.
var operatorKey = builder.Configuration["OperatorKey"] ?? "dev-operator-key";
var operatorKeyHash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(operatorKey)));

var silo = builder.AddProject<Projects.DePIN_Silo>("silo")
    .WithReference(orleans)
    .WithReference(database)
    .WithEnvironment("Api__OperatorKeySha256", operatorKeyHash)
    .WaitFor(postgres)
    .WithReplicas(2)
    .WithHttpHealthCheck("/health");

// The shipped weather archive becomes a dataset: the operator creates it (once; the same definition again changes
// nothing), then the fleet's weather stations sign and contribute their cities' readings to it.
var weatherFolder = Path.GetFullPath(Path.Combine(builder.AppHostDirectory, "..", "data", "weather"));
var weatherDataset = builder.AddProject<Projects.DePIN_Cli>("weather-dataset")
    .WithArgs(context =>
    {
        context.Args.Add("dataset");
        context.Args.Add("create");
        context.Args.Add("weather");
        context.Args.Add("--api");
        context.Args.Add(silo.GetEndpoint("http"));
        context.Args.Add("--definition");
        context.Args.Add(Path.Combine(weatherFolder, "dataset.json"));
    })
    .WithEnvironment("DEPIN_API_KEY", operatorKey)
    .WaitFor(silo);

var fleetSize = builder.Configuration.GetValue("Fleet:Nodes", 20);
var fleetKeys = builder.Configuration["Fleet:KeyDirectory"]
                ?? Path.GetFullPath(Path.Combine(builder.AppHostDirectory, "..", ".data", "fleet-keys"));
var weatherRate = builder.Configuration.GetValue("Fleet:WeatherRate", 20.0);
var fleet = builder.AddProject<Projects.DePIN_NodeAgent>("fleet")
    .WithArgs(context =>
    {
        context.Args.Add("--api");
        context.Args.Add(silo.GetEndpoint("http"));
        context.Args.Add("--simulate");
        context.Args.Add(fleetSize.ToString(System.Globalization.CultureInfo.InvariantCulture));
        context.Args.Add("--key-dir");
        context.Args.Add(fleetKeys);
        context.Args.Add("--weather");
        context.Args.Add(Path.Combine(weatherFolder, "weather.csv"));
        context.Args.Add("--weather-rate");
        context.Args.Add(weatherRate.ToString(System.Globalization.CultureInfo.InvariantCulture));
    })
    .WaitFor(silo)
    .WaitForCompletion(weatherDataset)
    .WithHttpHealthCheck("/health");

// The chain from record to answer: once the stations have contributed the archive, the operator's demo snapshots
// it, trains a model on the fleet, deploys it to edge nodes and asks it about a real day (see the README).
var demoState = builder.Configuration["Demo:StateDirectory"]
                ?? Path.GetFullPath(Path.Combine(builder.AppHostDirectory, "..", ".data", "demo"));
builder.AddProject<Projects.DePIN_Cli>("weather-demo")
    .WithArgs(context =>
    {
        context.Args.Add("demo");
        context.Args.Add("weather");
        context.Args.Add("--api");
        context.Args.Add(silo.GetEndpoint("http"));
        context.Args.Add("--state-dir");
        context.Args.Add(demoState);
    })
    .WithEnvironment("DEPIN_API_KEY", operatorKey)
    .WaitFor(fleet);

builder.Build().Run();

/// <summary>Clustering the silos set up in code (ADO.NET on PostgreSQL): Aspire passes ids and endpoints only.</summary>
internal sealed class SiloConfiguredClustering : IProviderConfiguration
{
    public void ConfigureResource<T>(IResourceBuilder<T> resourceBuilder, string configSection) where T : IResourceWithEnvironment
    {
    }
}
