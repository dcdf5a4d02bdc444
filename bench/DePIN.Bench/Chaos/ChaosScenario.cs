using System.Text.Json.Nodes;
using DePIN.Testing.Chaos;

namespace DePIN.Bench.Chaos;

/// <summary>
/// The chaos run on real processes (<see cref="ChaosRun"/>): silo kills and stops, a PostgreSQL restart and node kills
/// under load, then a check of every acknowledged operation. Progress goes to stderr; the report is the JSON object.
/// </summary>
public static class ChaosScenario
{
    public static Func<Task<JsonObject>> Prepare(ChaosSettings settings, TextWriter progress) =>
        async () => (await ChaosRun.Run(settings, progress)).ToJson();
}
