using DePIN.Abstractions;
using DePIN.Abstractions.Economy;
using DePIN.Abstractions.Nodes;
using DePIN.Abstractions.Telemetry;
using DePIN.Client;
using DePIN.Core.Economy;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Orleans.TestingHost;

namespace DePIN.Grains.Tests;

/// <summary>
/// An in-process cluster with the production grain setup and provider names, in-memory storage, and a fake platform
/// clock that the test advances. Orleans' own timers keep real time.
/// </summary>
/// <remarks>
/// As an xUnit class fixture it is one cluster for all the tests of a class: they run one after another, each in its
/// own regions, job ids and (where it counts jobs or balances) tenants, so what one leaves behind is not what the next
/// asserts on. A shape of settings that only one test needs is started by that test with <see cref="Start"/>.
/// </remarks>
public class NodeCluster : IAsyncLifetime
{
    private readonly IReadOnlyDictionary<string, string?> settings;

    public NodeCluster()
        : this(new Dictionary<string, string?>())
    {
    }

    protected NodeCluster(IReadOnlyDictionary<string, string?> settings) => this.settings = settings;

    public FakeTimeProvider Time { get; } = new(DateTimeOffset.UtcNow);

    /// <summary>Grain calls the test makes fail, as a silo dying under them would; none until armed.</summary>
    public CallFaults Faults { get; } = new();

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IDePINClient Sdk { get; private set; } = null!;

    public IClusterClient Client => Cluster.Client;

    public static async Task<NodeCluster> Start(IReadOnlyDictionary<string, string?>? settings = null)
    {
        var cluster = new NodeCluster(settings ?? new Dictionary<string, string?>());
        await cluster.InitializeAsync();
        return cluster;
    }

    public INodeGrain Node(string id) => Client.GetGrain<INodeGrain>(id);

    public Task<TelemetryVerdict> Report(TelemetryBatch batch) => Node(batch.NodeId).Report(batch);

    public async ValueTask DisposeAsync()
    {
        await Cluster.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    public async ValueTask InitializeAsync()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.AddSingleton(new PlatformClock(Time));
            foreach (var name in StorageNames.All)
            {
                silo.AddMemoryGrainStorage(name);
            }

            silo.AddIncomingGrainCallFilter(Faults.Invoke);
            silo.UseInMemoryReminderService().AddDePINGrains(configuration);
        });
        builder.ConfigureClient(client =>
            client.AddMemoryStreams(StreamNames.Provider, streams => streams.ConfigurePartitioning(StreamNames.MemoryStreamQueues)));
        Cluster = builder.Build();
        await Cluster.DeployAsync();
        Sdk = new DePINClient(Cluster.Client);
        foreach (var tenant in Tenants)
        {
            await Fund(AccountId.Tenant(tenant), 1_000_000 * AccountId.PerCredit);
        }
    }

    /// <summary>The tenants the grain tests submit jobs for, funded at start.</summary>
    public static IReadOnlyList<string> Tenants { get; } = ["acme", "globex"];

    /// <summary>A tenant of the test's own, funded as <see cref="Tenants"/> are: its jobs and balance are only the test's.</summary>
    public async Task<string> Tenant(string name)
    {
        await Fund(AccountId.Tenant(name), 1_000_000 * AccountId.PerCredit);
        return name;
    }

    /// <summary>Opens the account and deposits <paramref name="amount"/> microcredits into it.</summary>
    public async Task Fund(string account, long amount)
    {
        await Sdk.OpenAccountsAsync([account]);
        var deposit = await Sdk.PostAsync(new PostingRequest($"fund:{account}:{Guid.NewGuid():N}", PostingKinds.Deposit,
            [new LedgerEntry(AccountId.External, Debit: amount), new LedgerEntry(account, Credit: amount)]));
        if (!deposit.Accepted)
        {
            throw new InvalidOperationException($"Funding {account} failed: {deposit.Status} {deposit.Detail}");
        }
    }
}

/// <summary>
/// Fails the next calls of a grain method, by its name, before the grain runs them (a lost call), or holds them until
/// the test lets them go (a slow write, a silo about to die).
/// </summary>
public sealed class CallFaults
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _left = new(StringComparer.Ordinal);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, TaskCompletionSource> _holds = new(StringComparer.Ordinal);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _held = new(StringComparer.Ordinal);

    /// <summary>The next <paramref name="times"/> calls of methods named <paramref name="method"/> fail with a timeout.</summary>
    public void Fail(string method, int times) => _left[method] = times;

    /// <summary>Calls of <paramref name="method"/> still to fail.</summary>
    public int Left(string method) => _left.GetValueOrDefault(method);

    /// <summary>Calls of <paramref name="method"/> wait from now until <see cref="Release"/>.</summary>
    public void Hold(string method) => _holds[method] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Lets the held calls of <paramref name="method"/> go on, and later ones pass.</summary>
    public void Release(string method)
    {
        if (_holds.TryRemove(method, out var gate))
        {
            gate.SetResult();
        }
    }

    /// <summary>Calls of <paramref name="method"/> that were held, so far.</summary>
    public int Held(string method) => _held.GetValueOrDefault(method);

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        var method = context.InterfaceMethod.Name;
        while (_left.TryGetValue(method, out var left) && left > 0)
        {
            if (_left.TryUpdate(method, left - 1, left))
            {
                throw new TimeoutException($"{method} failed on purpose (CallFaults)");
            }
        }

        if (_holds.TryGetValue(method, out var gate))
        {
            _held.AddOrUpdate(method, 1, (_, n) => n + 1);
            await gate.Task;
        }

        await context.Invoke();
    }
}
