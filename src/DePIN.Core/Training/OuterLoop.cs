using System.Numerics.Tensors;

namespace DePIN.Core.Training;

/// <summary>
/// The coordinator's side of DiLoCo: the global parameters and the outer momentum. A round ends with the deltas of
/// the workers that reported in time (any number from one up); their mean is the outer gradient's negation.
/// </summary>
public sealed class OuterLoop(float[] parameters, float[] velocity, float learningRate, float momentum)
{
    public float[] Parameters { get; } = parameters;

    /// <summary>The Nesterov momentum buffer, checkpointed with the parameters.</summary>
    public float[] Velocity { get; } = velocity;

    /// <summary>Averages <paramref name="deltas"/> and takes one outer step.</summary>
    public void Apply(IReadOnlyCollection<float[]> deltas)
    {
        ArgumentOutOfRangeException.ThrowIfZero(deltas.Count);
        var mean = new float[Parameters.Length];
        foreach (var delta in deltas)
        {
            if (delta.Length != mean.Length)
            {
                throw new ArgumentException($"A delta has {delta.Length} values; the model has {mean.Length}.", nameof(deltas));
            }

            TensorPrimitives.Add(mean, delta, mean);
        }

        TensorPrimitives.Multiply(mean, 1f / deltas.Count, mean);
        NesterovOuter.Step(Parameters, Velocity, mean, learningRate, momentum);
    }
}
