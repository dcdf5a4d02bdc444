using System.Numerics.Tensors;

namespace DePIN.Core.Training;

/// <summary>
/// A multilayer perceptron with one tanh hidden layer and a softmax output, over a flat parameter vector:
/// W1 (<c>Hidden × Inputs</c>, row-major), b1 (<c>Hidden</c>), W2 (<c>Classes × Hidden</c>), b2 (<c>Classes</c>).
/// Flat so that averaging, deltas, checkpoints and content hashes are plain vector operations. The shape holds no
/// parameters; every method takes them, so one shape serves any number of replicas.
/// </summary>
public sealed record Mlp(int Inputs, int Hidden, int Classes)
{
    /// <summary>How many floats the parameters take.</summary>
    public int ParameterCount => Hidden * Inputs + Hidden + Classes * Hidden + Classes;

    /// <summary>Glorot-uniform weights and zero biases, from <paramref name="seed"/>.</summary>
    public float[] Initialize(int seed)
    {
        var random = new Random(seed);
        var parameters = new float[ParameterCount];
        Fill(parameters.AsSpan(0, Hidden * Inputs), MathF.Sqrt(6f / (Inputs + Hidden)), random);
        Fill(parameters.AsSpan(Hidden * Inputs + Hidden, Classes * Hidden), MathF.Sqrt(6f / (Hidden + Classes)), random);
        return parameters;
    }

    /// <summary>Class probabilities of one example, written to <paramref name="probabilities"/>; <paramref name="hidden"/> is scratch of length <see cref="Hidden"/>.</summary>
    public void Predict(ReadOnlySpan<float> parameters, ReadOnlySpan<float> x, Span<float> hidden, Span<float> probabilities)
    {
        var w1 = parameters[..B1];
        var b1 = parameters.Slice(B1, Hidden);
        var w2 = parameters.Slice(W2, Classes * Hidden);
        var b2 = parameters[B2..];
        for (var j = 0; j < Hidden; j++)
        {
            hidden[j] = TensorPrimitives.Dot(w1.Slice(j * Inputs, Inputs), x) + b1[j];
        }

        TensorPrimitives.Tanh(hidden, hidden);
        for (var c = 0; c < Classes; c++)
        {
            probabilities[c] = TensorPrimitives.Dot(w2.Slice(c * Hidden, Hidden), hidden) + b2[c];
        }

        TensorPrimitives.SoftMax(probabilities, probabilities);
    }

    /// <summary>The most probable class of one example.</summary>
    public int Classify(ReadOnlySpan<float> parameters, ReadOnlySpan<float> x)
    {
        Span<float> hidden = stackalloc float[Hidden];
        Span<float> probabilities = stackalloc float[Classes];
        Predict(parameters, x, hidden, probabilities);
        return TensorPrimitives.IndexOfMax(probabilities);
    }

    /// <summary>
    /// Adds the gradient of the mean cross-entropy over <paramref name="batch"/> to <paramref name="gradient"/> (which
    /// the caller zeroes), and returns that mean loss.
    /// </summary>
    public float Gradient(ReadOnlySpan<float> parameters, IReadOnlyList<Example> batch, Span<float> gradient)
    {
        var w2 = parameters.Slice(W2, Classes * Hidden);
        var gw1 = gradient[..B1];
        var gb1 = gradient.Slice(B1, Hidden);
        var gw2 = gradient.Slice(W2, Classes * Hidden);
        var gb2 = gradient[B2..];
        Span<float> hidden = stackalloc float[Hidden];
        Span<float> dHidden = stackalloc float[Hidden];
        Span<float> dOut = stackalloc float[Classes];
        var scale = 1f / batch.Count;
        var loss = 0f;
        foreach (var example in batch)
        {
            var x = example.Features.AsSpan();
            Predict(parameters, x, hidden, dOut);
            loss -= MathF.Log(MathF.Max(dOut[example.Label], 1e-12f));
            dOut[example.Label] -= 1;                          // softmax + cross-entropy: p − onehot(y)
            TensorPrimitives.Multiply(dOut, scale, dOut);

            dHidden.Clear();
            for (var c = 0; c < Classes; c++)
            {
                TensorPrimitives.MultiplyAdd(hidden, dOut[c], gw2.Slice(c * Hidden, Hidden), gw2.Slice(c * Hidden, Hidden));
                TensorPrimitives.MultiplyAdd(w2.Slice(c * Hidden, Hidden), dOut[c], dHidden, dHidden);
            }

            TensorPrimitives.Add(gb2, dOut, gb2);
            for (var j = 0; j < Hidden; j++)
            {
                dHidden[j] *= 1 - hidden[j] * hidden[j];     // tanh'
                TensorPrimitives.MultiplyAdd(x, dHidden[j], gw1.Slice(j * Inputs, Inputs), gw1.Slice(j * Inputs, Inputs));
            }

            TensorPrimitives.Add(gb1, dHidden, gb1);
        }

        return loss * scale;
    }

    /// <summary>The share of <paramref name="examples"/> classified right; 0 when there are none.</summary>
    public double Accuracy(ReadOnlySpan<float> parameters, IReadOnlyList<Example> examples)
    {
        var right = 0;
        foreach (var example in examples)
        {
            right += Classify(parameters, example.Features) == example.Label ? 1 : 0;
        }

        return examples.Count == 0 ? 0 : (double)right / examples.Count;
    }

    // Offsets of b1, W2 and b2 in the flat vector (W1 starts at 0).
    private int B1 => Hidden * Inputs;

    private int W2 => B1 + Hidden;

    private int B2 => W2 + Classes * Hidden;

    private static void Fill(Span<float> weights, float limit, Random random)
    {
        for (var i = 0; i < weights.Length; i++)
        {
            weights[i] = (float)((random.NextDouble() * 2 - 1) * limit);
        }
    }
}

/// <summary>One training example: normalised features and a class index.</summary>
/// <param name="Key">A stable key (from the record's content hash) that decides its split and shard.</param>
public sealed record Example(float[] Features, int Label, ulong Key)
{
    /// <summary>Held out for evaluation: one example in five, by key.</summary>
    public bool IsHeldOut => Key % 5 == 0;

    /// <summary>Which of <paramref name="shards"/> training shards it belongs to (by other bits of the key than the split's).</summary>
    public int Shard(int shards) => (int)((Key >> 32) % (ulong)shards);
}
