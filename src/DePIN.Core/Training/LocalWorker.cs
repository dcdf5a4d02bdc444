using System.Numerics.Tensors;

namespace DePIN.Core.Training;

/// <summary>
/// A DiLoCo worker: from the global parameters it takes <c>H</c> Adam steps on minibatches of its own shard and
/// returns its delta (local − global). Its Adam state carries over between rounds while it stays the same worker;
/// a replacement starts a fresh one. Deterministic for a given seed.
/// </summary>
public sealed class LocalWorker
{
    private readonly Mlp _model;
    private readonly IReadOnlyList<Example> _shard;
    private readonly Adam _adam;
    private readonly Random _random;
    private readonly int _batchSize;
    private readonly float[] _gradient;
    private readonly Example[] _batch;

    public LocalWorker(Mlp model, IReadOnlyList<Example> shard, float learningRate, int batchSize, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfZero(shard.Count);
        _model = model;
        _shard = shard;
        _adam = new Adam(model.ParameterCount, learningRate);
        _random = new Random(seed);
        _batchSize = Math.Min(batchSize, shard.Count);
        _gradient = new float[model.ParameterCount];
        _batch = new Example[_batchSize];
    }

    /// <summary>The mean loss of the last step taken.</summary>
    public float LastLoss { get; private set; }

    /// <summary>Takes <paramref name="steps"/> inner steps from <paramref name="global"/> and returns local − global.</summary>
    public float[] Round(ReadOnlySpan<float> global, int steps)
    {
        var local = global.ToArray();
        for (var step = 0; step < steps; step++)
        {
            Step(local);
        }

        TensorPrimitives.Subtract(local, global, local);
        return local;
    }

    /// <summary>The gradient of one minibatch of the shard at <paramref name="parameters"/> (for synchronous training).</summary>
    public ReadOnlySpan<float> Gradient(ReadOnlySpan<float> parameters)
    {
        Array.Clear(_gradient);
        LastLoss = _model.Gradient(parameters, NextBatch(), _gradient);
        return _gradient;
    }

    private void Step(Span<float> local)
    {
        Array.Clear(_gradient);
        LastLoss = _model.Gradient(local, NextBatch(), _gradient);
        _adam.Step(local, _gradient);
    }

    private Example[] NextBatch()
    {
        for (var i = 0; i < _batch.Length; i++)
        {
            _batch[i] = _shard[_random.Next(_shard.Count)];
        }

        return _batch;
    }
}
