using DePIN.Core.Work;

namespace DePIN.Abstractions.Nodes;

/// <summary>How Orleans carries Core's <see cref="ReputationEvidence"/>, which knows nothing of Orleans.</summary>
[GenerateSerializer, Alias("DePIN.ReputationEvidence")]
public struct ReputationEvidenceSurrogate
{
    [Id(0)] public long Agreed;
    [Id(1)] public long Disagreed;
    [Id(2)] public long Delivered;
    [Id(3)] public long Abandoned;
    [Id(4)] public long Records;
    [Id(5)] public double QualitySum;
    [Id(6)] public long Served;
    [Id(7)] public long Unanswered;
}

[RegisterConverter]
public sealed class ReputationEvidenceConverter : IConverter<ReputationEvidence, ReputationEvidenceSurrogate>
{
    public ReputationEvidence ConvertFromSurrogate(in ReputationEvidenceSurrogate s) =>
        new(s.Agreed, s.Disagreed, s.Delivered, s.Abandoned, s.Records, s.QualitySum, s.Served, s.Unanswered);

    public ReputationEvidenceSurrogate ConvertToSurrogate(in ReputationEvidence e) => new()
    {
        Agreed = e.Agreed, Disagreed = e.Disagreed, Delivered = e.Delivered, Abandoned = e.Abandoned,
        Records = e.Records, QualitySum = e.QualitySum, Served = e.Served, Unanswered = e.Unanswered,
    };
}
