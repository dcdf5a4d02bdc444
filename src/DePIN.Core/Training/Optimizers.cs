using System.Numerics.Tensors;

namespace DePIN.Core.Training;

/// <summary>Adam (Kingma and Ba), the inner optimizer each worker runs for its H local steps, with its own state.</summary>
public sealed class Adam(int parameters, float learningRate, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f)
{
    private readonly float[] _m = new float[parameters];
    private readonly float[] _v = new float[parameters];
    private readonly float[] _scratch = new float[parameters];
    private int _t;

    /// <summary>θ ← θ − lr · m̂ / (√v̂ + ε).</summary>
    public void Step(Span<float> theta, ReadOnlySpan<float> gradient)
    {
        _t++;
        // m = β1·m + (1−β1)·g ; v = β2·v + (1−β2)·g²
        TensorPrimitives.Multiply(_m, beta1, _m);
        TensorPrimitives.MultiplyAdd(gradient, 1 - beta1, _m, _m);
        TensorPrimitives.Multiply(_v, beta2, _v);
        TensorPrimitives.Multiply(gradient, gradient, _scratch);
        TensorPrimitives.MultiplyAdd(_scratch, 1 - beta2, _v, _v);

        var stepSize = learningRate * MathF.Sqrt(1 - MathF.Pow(beta2, _t)) / (1 - MathF.Pow(beta1, _t));
        TensorPrimitives.Sqrt(_v, _scratch);
        TensorPrimitives.Add(_scratch, epsilon, _scratch);
        TensorPrimitives.Divide(_m, _scratch, _scratch);
        TensorPrimitives.MultiplyAdd(_scratch, -stepSize, theta, theta);
    }
}

/// <summary>
/// DiLoCo's outer optimizer: SGD with Nesterov momentum on the outer gradient, the mean over workers of
/// (global parameters − a worker's parameters after its H inner steps), i.e. the negated mean delta. Its state (the
/// momentum buffer) is part of every checkpoint.
/// </summary>
public static class NesterovOuter
{
    /// <summary>
    /// Applies one outer step to <paramref name="theta"/> from the workers' mean delta (local − global):
    /// g = −meanDelta; v ← μv + g; θ ← θ − lr·(g + μv).
    /// </summary>
    public static void Step(Span<float> theta, Span<float> velocity, ReadOnlySpan<float> meanDelta, float learningRate, float momentum)
    {
        // v = μ·v − meanDelta
        TensorPrimitives.Multiply(velocity, momentum, velocity);
        TensorPrimitives.Subtract(velocity, meanDelta, velocity);
        // θ = θ + lr·meanDelta − lr·μ·v
        TensorPrimitives.MultiplyAdd(meanDelta, learningRate, theta, theta);
        TensorPrimitives.MultiplyAdd(velocity, -learningRate * momentum, theta, theta);
    }
}
