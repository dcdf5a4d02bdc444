namespace DePIN.Simulation.Scheduling;

/// <summary>The distributions the churn and job models draw from.</summary>
internal static class Sampling
{
    public static double Uniform(this Random random, double low, double high) => low + (high - low) * random.NextDouble();

    public static double Exponential(this Random random, double mean) => -mean * Math.Log(1 - random.NextDouble());

    public static double Weibull(this Random random, double shape, double scale) =>
        scale * Math.Pow(-Math.Log(1 - random.NextDouble()), 1 / shape);

    public static double Normal(this Random random, double mean, double deviation)
    {
        // Box-Muller; the second variate is dropped to keep draws independent of call order.
        var u1 = 1 - random.NextDouble();
        var u2 = random.NextDouble();
        return mean + deviation * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    public static double LogNormal(this Random random, double median, double sigma) =>
        median * Math.Exp(random.Normal(0, sigma));

    public static T Pick<T>(this Random random, IReadOnlyList<(T Value, double Weight)> choices)
    {
        var total = choices.Sum(c => c.Weight);
        var x = random.NextDouble() * total;
        foreach (var (value, weight) in choices)
        {
            x -= weight;
            if (x < 0)
            {
                return value;
            }
        }

        return choices[^1].Value;
    }
}
