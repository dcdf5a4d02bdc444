namespace DePIN.Core.Scheduling;

/// <summary>
/// What the fleet as a whole says about session lengths, for nodes with little history of their own.
/// Sessions are Weibull with shape <paramref name="Shape"/> (below 1: heavy-tailed, the longer a node has been up, the
/// longer it tends to stay) and scale parameter θ = λ^k drawn from an inverse-gamma prior centred on
/// <paramref name="Theta"/> with the weight of <paramref name="PriorSessions"/> sessions.
/// </summary>
/// <param name="Shape">Weibull shape k.</param>
/// <param name="Theta">Fleet θ = λ^k, in hours^k.</param>
/// <param name="PriorSessions">How many sessions of its own a node needs before they outweigh the fleet.</param>
/// <param name="Recency">Weight of each older session relative to the next newer one.</param>
/// <param name="SuspectSurvival">Share of nodes that recover after missing heartbeats.</param>
/// <param name="HourPseudoCount">Pseudo-departures per hour of day that keep a short history's daily pattern flat.</param>
public sealed record AvailabilityPrior(
    double Shape,
    double Theta,
    double PriorSessions = 1,
    double Recency = 0.9,
    double SuspectSurvival = 0.5,
    double HourPseudoCount = 1)
{
    /// <summary>Before the fleet has any history: shape 0.6, a typical session of about 12 hours.</summary>
    public static AvailabilityPrior Default { get; } = new(0.6, Math.Pow(12, 0.6));

    /// <summary>
    /// Weighted maximum-likelihood Weibull fit of completed sessions (hours) of many nodes, each node counting once
    /// however many sessions it had: otherwise the flakiest machines, which end the most sessions, would set the prior
    /// for everyone. <see cref="Default"/> below 20 sessions.
    /// </summary>
    public static AvailabilityPrior Fit(IEnumerable<IReadOnlyCollection<double>> sessionsByNode, AvailabilityPrior? template = null)
    {
        template ??= Default;
        var samples = new List<(double Hours, double Weight)>();
        foreach (var node in sessionsByNode)
        {
            var valid = node.Where(h => h > 1e-6).ToArray();
            samples.AddRange(valid.Select(h => (h, 1.0 / valid.Length)));
        }

        if (samples.Count < 20)
        {
            return template;
        }

        var weights = samples.Sum(s => s.Weight);
        var meanLog = samples.Sum(s => s.Weight * Math.Log(s.Hours)) / weights;

        // d/dk of the profile log-likelihood: increasing in k, so bisect for its root.
        double Gradient(double k)
        {
            double sum = 0, weighted = 0;
            foreach (var (t, w) in samples)
            {
                var tk = w * Math.Pow(t, k);
                sum += tk;
                weighted += tk * Math.Log(t);
            }

            return weighted / sum - 1 / k - meanLog;
        }

        double low = 0.05, high = 5;
        for (var i = 0; i < 60; i++)
        {
            var mid = (low + high) / 2;
            if (Gradient(mid) > 0)
            {
                high = mid;
            }
            else
            {
                low = mid;
            }
        }

        var shape = (low + high) / 2;
        var theta = samples.Sum(s => s.Weight * Math.Pow(s.Hours, shape)) / weights;
        return template with { Shape = shape, Theta = theta };
    }
}

/// <summary>A node's chance of staying up for a while from now: what <see cref="PredictivePolicy"/> ranks nodes by.</summary>
public interface ISurvivalForecast
{
    /// <summary>Probability that the node is still up after <paramref name="duration"/>; 0 when it is down.</summary>
    double ProbabilityUp(NodeCandidate node, DateTimeOffset now, TimeSpan duration);
}

/// <summary>
/// The probability that a node stays up for a given time from now, from its own sessions, the fleet's prior, the hour
/// of day its sessions tend to end, and its live status.
/// </summary>
/// <remarks>
/// With Weibull sessions of known shape k and θ ~ InvGamma(α, β), the chance of a session outliving t is
/// (β / (β + t^k))^α. A node up for a hours then survives d more with probability ((β + a^k) / (β + (a+d)^k))^α.
/// The cumulative hazard −ln of that is scaled by the node's mean hour-of-day departure weight over the interval, so
/// a machine switched off every evening is a poor bet at 22:00 and a good one at 09:00.
/// </remarks>
public sealed class AvailabilityPredictor(AvailabilityPrior prior) : ISurvivalForecast
{
    public AvailabilityPrior Prior { get; set; } = prior;

    public double ProbabilityUp(NodeCandidate node, DateTimeOffset now, TimeSpan duration) =>
        ProbabilityUp(node.Availability, node.Suspect, now, duration);

    /// <summary>Probability that the node is still up after <paramref name="duration"/>; 0 when it is down.</summary>
    public double ProbabilityUp(NodeAvailability node, bool suspect, DateTimeOffset now, TimeSpan duration)
    {
        if (node.UpSince is not { } since)
        {
            return 0;
        }

        Refresh(node);
        var k = Prior.Shape;
        var age = Math.Max(0, (now - since).TotalHours);
        var hours = Math.Max(0, duration.TotalHours);
        var hazard = node.CachedAlpha * Math.Log((node.CachedBeta + Math.Pow(age + hours, k)) / (node.CachedBeta + Math.Pow(age, k)));
        hazard *= MeanHourWeight(node.CachedHourWeights, now, hours);
        var p = Math.Exp(-hazard);
        return suspect ? p * Prior.SuspectSurvival : p;
    }

    /// <summary>
    /// The same probability for a node of the given age that has no history of its own and no daily pattern: what the
    /// fleet prior alone predicts. The reference a node's own history must beat.
    /// </summary>
    public double ProbabilityUpFromPrior(double ageHours, double hours)
    {
        var prior = Prior;
        double alpha = prior.PriorSessions + 1, beta = prior.PriorSessions * prior.Theta, k = prior.Shape;
        var age = Math.Max(0, ageHours);
        return Math.Pow((beta + Math.Pow(age, k)) / (beta + Math.Pow(age + Math.Max(0, hours), k)), alpha);
    }

    private void Refresh(NodeAvailability node)
    {
        var prior = Prior;
        if (node.CachedVersion == node.Version && node.CachedShape.Equals(prior.Shape) && node.CachedAlpha > 0)
        {
            return;
        }

        double alpha = prior.PriorSessions + 1, beta = prior.PriorSessions * prior.Theta, total = 0;
        Span<double> counts = stackalloc double[24];
        var weight = 1.0;
        for (var i = 0; i < node.Sessions; i++)
        {
            alpha += weight;
            beta += weight * Math.Pow(node.SessionHours(i), prior.Shape);
            // Departures spread over neighbouring hours: a habit of switching off "around 23:00" jitters.
            var hour = node.SessionEndHour(i);
            counts[hour] += weight / 2;
            counts[(hour + 1) % 24] += weight / 4;
            counts[(hour + 23) % 24] += weight / 4;
            total += weight;
            weight *= prior.Recency;
        }

        var norm = (total + 24 * prior.HourPseudoCount) / 24;
        for (var h = 0; h < 24; h++)
        {
            node.CachedHourWeights[h] = (counts[h] + prior.HourPseudoCount) / norm;
        }

        node.CachedAlpha = alpha;
        node.CachedBeta = beta;
        node.CachedShape = prior.Shape;
        node.CachedVersion = node.Version;
    }

    /// <summary>Mean of the hourly weights (which average 1 over a day) over the next <paramref name="hours"/>.</summary>
    private static double MeanHourWeight(double[] weights, DateTimeOffset now, double hours)
    {
        if (hours <= 0)
        {
            var h = now.UtcDateTime.Hour;
            return weights[h];
        }

        var fullDays = Math.Floor(hours / 24);
        var rest = hours - fullDays * 24;
        var t = now.UtcDateTime.TimeOfDay.TotalHours;
        var integral = fullDays * 24;
        while (rest > 1e-9)
        {
            var hour = (int)t % 24;
            var step = Math.Min(rest, Math.Floor(t) + 1 - t);
            integral += weights[hour] * step;
            rest -= step;
            t += step;
        }

        return integral / hours;
    }
}
