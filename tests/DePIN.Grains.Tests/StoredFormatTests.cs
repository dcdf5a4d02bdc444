using DePIN.Abstractions.Datasets;
using DePIN.Abstractions.Jobs;
using DePIN.Abstractions.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

namespace DePIN.Grains.Tests;

/// <summary>
/// Grain state is stored as the Orleans serializer's bytes, and a rolling update has old and new silos calling each
/// other: records that grain state holds must keep their bytes from one version to the next. Each record's members
/// carry explicit field ids (<c>[property: Id(n)]</c>); dropping them moves the members into the primary-constructor
/// layer, and bytes written before read back as defaults (measured with Orleans 10.4.2). These bytes were written by
/// the build that introduced the test; a change that fails it breaks every stored state that holds the record.
/// </summary>
public sealed class StoredFormatTests
{
    private static readonly Serializer Serializer = new ServiceCollection()
        .AddSerializer(s => s.AddAssembly(typeof(JobCheckpoint).Assembly))
        .BuildServiceProvider()
        .GetRequiredService<Serializer>();

    private static readonly DateTimeOffset At = new(2026, 12, 6, 17, 0, 0, TimeSpan.Zero);

    public static TheoryData<string, object, string> Records() => new()
    {
        // Field ids out of declaration order: Shard was added later, with the next free id.
        { "JobCheckpoint", new JobCheckpoint(Shard: 3, Step: 42, ContentHash: "ab12", At: At), JobCheckpointBytes },
        { "JobAssignment", new JobAssignment(Replica: 1, NodeId: "n1", Attempt: 2, Rate: 1_500_000, Forecast: 0.9), JobAssignmentBytes },
        {
            "NodeCapabilities",
            new NodeCapabilities(16, 64L << 30, [new GpuInfo("H100", 80L << 30)], 1L << 40, 1000, "eu-west", 52.37, 4.9, "1.2.0"),
            NodeCapabilitiesBytes
        },
        {
            "DatasetDefinition",
            new DatasetDefinition("weather", "CC-BY-4.0", "acme",
                new List<DatasetField> { new("temperature", DatasetFieldType.Number, Unit: "C", Min: -90, Max: 60) }, // as JSON reads it
                new ContributorPolicy(ContributorPolicyKind.AnyRegistered, MinReputation: 0.5)),
            DatasetDefinitionBytes
        },
    };

    [Theory]
    [MemberData(nameof(Records))]
    public void Records_held_in_grain_state_keep_their_stored_bytes(string name, object record, string stored)
    {
        var bytes = Convert.ToHexString(Serializer.SerializeToArray(record));
        Assert.True(stored == bytes, $"{name} is now written as {bytes}");

        var read = Serializer.Deserialize<object>(Convert.FromHexString(stored));
        Assert.IsType(record.GetType(), read);
        Assert.Equivalent(record, read, strict: true);
    }

    private const string JobCheckpointBytes =
        "3001209CAE5E27446550494E2E4A6F62436865636B706F696E74E800A9410961623132218000280C5DBA53DF08810000000000000000E0010DE0";
    private const string JobAssignmentBytes =
        "3001789D630A27446550494E2E4A6F6241737369676E6D656E74E8000541056E3101096160E3160081CDCCCCCCCCCCEC3FE0";
    private const string NodeCapabilitiesBytes =
        "3001B6DDE4192D446550494E2E4E6F64654361706162696C6974696573E800410120000000000821000321E84009483130300120000000000AE0E001200000000080810000000000408F40410F65752D77657374818FC2F5285C2F4A40819A99999999991340410B312E322E30E0";
    private const string DatasetDefinitionBytes =
        "300187E834D22F446550494E2E44617461736574446566696E6974696F6EE8400F77656174686572411343432D42592D342E30410961636D6531017663A6BC6F53797374656D2E436F6C6C656374696F6E732E47656E657269632E4C69737460315B5B446550494E2E446174617365744669656C645D5D000321E8401774656D706572617475726501014103438100000000008056C0810000000000004E400103C101E0E021E80001C10181000000000000E03FE0E0";
}
