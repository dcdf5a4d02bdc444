using DePIN.Abstractions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DePIN.Grains.Maintenance;

/// <summary>The fleet's failure model: learns from the moments node grains report, and serves the latest model.</summary>
[Alias("DePIN.IFailureModelGrain")]
public interface IFailureModelGrain : IGrainWithIntegerKey
{
    /// <summary>Labelled moments of nodes' histories; kept in memory, at most <see cref="MaintenanceOptions.MaxExamples"/>.</summary>
    [Alias("Report")]
    Task Report(FailureExample[] examples);

    /// <summary>Trains now; false when the history is still too thin to learn from.</summary>
    [Alias("Retrain")]
    Task<bool> Retrain();

    /// <summary>How many labelled moments it holds now, and how many of those came before a failure.</summary>
    [Alias("GetHistory")]
    ValueTask<(int Examples, int Failures)> GetHistory();

    /// <summary>The current model's version: 0 until one has been trained.</summary>
    [Alias("GetVersion")]
    ValueTask<long> GetVersion();

    /// <summary>The current model as <see cref="FailureModel.Save"/> wrote it, and its version; null before the first.</summary>
    [Alias("GetModel")]
    ValueTask<SavedFailureModel?> GetModel();
}

/// <summary>A trained model as stored and shipped to silos.</summary>
[GenerateSerializer, Immutable, Alias("DePIN.SavedFailureModel")]
public sealed record SavedFailureModel(
    [property: Id(0)] long Version, [property: Id(1)] byte[] Model, [property: Id(2)] DateTimeOffset TrainedAt,
    [property: Id(3)] int Examples, [property: Id(4)] int Failures);

[GenerateSerializer, Alias("DePIN.FailureModelState")]
public sealed class FailureModelState
{
    [Id(0)] public SavedFailureModel? Current { get; set; }
}

/// <summary>
/// One per cluster (key 0). Keeps the most recent labelled moments (failures first: when full, the oldest
/// non-failure goes), retrains every <see cref="MaintenanceOptions.RetrainInterval"/> and stores each new model, so
/// a restart serves the last one while history builds up again.
/// </summary>
public sealed partial class FailureModelGrain(
    [PersistentState("failure-model", StorageNames.Nodes)] IPersistentState<FailureModelState> state,
    PlatformClock clock,
    IOptions<MaintenanceOptions> options,
    ILogger<FailureModelGrain> logger)
    : Grain, IFailureModelGrain
{
    private readonly MaintenanceOptions _options = options.Value;
    private readonly LinkedList<FailureExample> _healthy = new();
    private readonly LinkedList<FailureExample> _failing = new();
    private int _sinceTraining;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        this.RegisterGrainTimer(async _ => await Retrain(), new GrainTimerCreationOptions
        {
            DueTime = _options.RetrainInterval,
            Period = _options.RetrainInterval,
            Interleave = false,
        });
        return Task.CompletedTask;
    }

    public Task Report(FailureExample[] examples)
    {
        foreach (var example in examples)
        {
            (example.Failed ? _failing : _healthy).AddLast(example);
        }

        while (_healthy.Count + _failing.Count > _options.MaxExamples)
        {
            (_healthy.Count > 0 ? _healthy : _failing).RemoveFirst();
        }

        _sinceTraining += examples.Length;
        return Task.CompletedTask;
    }

    public async Task<bool> Retrain()
    {
        if (_sinceTraining == 0)
        {
            return false; // nothing new to learn from
        }

        var examples = _healthy.Concat(_failing).ToList();
        using var model = FailureModel.Train(examples, seed: (int)(state.State.Current?.Version ?? 0), _options.MinimumFailures);
        if (model is null)
        {
            LogTooThin(examples.Count, _failing.Count, _options.MinimumFailures);
            return false;
        }

        var version = (state.State.Current?.Version ?? 0) + 1;
        state.State.Current = new SavedFailureModel(version, model.Save(), clock.UtcNow, model.Examples, model.Failures);
        await state.WriteStateAsync();
        _sinceTraining = 0;
        LogTrained(version, model.Examples, model.Failures);
        return true;
    }

    public ValueTask<(int Examples, int Failures)> GetHistory() => ValueTask.FromResult((_healthy.Count + _failing.Count, _failing.Count));

    public ValueTask<long> GetVersion() => ValueTask.FromResult(state.State.Current?.Version ?? 0);

    public ValueTask<SavedFailureModel?> GetModel() => ValueTask.FromResult(state.State.Current);

    [LoggerMessage(LogLevel.Information, "Failure model v{Version} trained on {Examples} moments, {Failures} of them before a failure")]
    private partial void LogTrained(long version, int examples, int failures);

    [LoggerMessage(LogLevel.Information, "Failure model not trained: {Examples} moments, {Failures} before a failure, at least {Minimum} of each needed")]
    private partial void LogTooThin(int examples, int failures, int minimum);
}
