namespace DePIN.Grains.Datasets;

/// <summary>Configuration section <c>Datasets</c>.</summary>
public sealed class DatasetOptions
{
    public const string Section = "Datasets";

    /// <summary>
    /// A contributor's readings are compared with its neighbours' at most this often (platform time): a sensor that
    /// reports ten times a second is judged on a sample, which keeps the check off the cost of every append. Zero
    /// checks every reading.
    /// </summary>
    public TimeSpan QualityCheckInterval { get; set; } = TimeSpan.FromSeconds(1);
}
