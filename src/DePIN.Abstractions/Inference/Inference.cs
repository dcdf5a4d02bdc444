using DePIN.Core.Datasets;
using DePIN.Core.Inference;
using Orleans.Concurrency;

namespace DePIN.Abstractions.Inference;

/// <summary>An Inference job's work: serve this model version (its weights' hash) from every replica's node.</summary>
[GenerateSerializer, Immutable, Alias("DePIN.InferenceWork")]
public sealed record InferenceWork([property: Id(0)] string ModelHash);

/// <summary>A request to a model: the input fields, where and when the input is from, and the region its data must stay in, if any.</summary>
public sealed record InferenceRequest(Dictionary<string, FieldValue> Values, double Latitude, double Longitude, DateTimeOffset At, string? Residency = null)
{
    /// <summary>The input's canonical form (see <see cref="InferenceReceipt.HashInput"/>), whose SHA-256 receipts name.</summary>
    public byte[] Canonical(string modelHash) => new Contribution(modelHash, "", "", At, Latitude, Longitude, "", Values).ToCanonical();
}

/// <summary>The answer to a request: the model's class and probabilities, the serving node's signed receipt, and how many nodes were tried.</summary>
public sealed record InferenceResult(string Answer, float[] Probabilities, InferenceReceipt Receipt, int Attempts);

/// <summary>A request handed to a serving node: its id and the input's canonical bytes.</summary>
[GenerateSerializer, Immutable, Alias("DePIN.InferenceTask")]
public sealed record InferenceTask([property: Id(0)] string RequestId, [property: Id(1)] byte[] Input);

/// <summary>An agent's signed long-poll for requests to the model its slot serves.</summary>
public sealed record InferencePoll(string NodeId, string JobKey, int Slot, int Attempt, double WaitSeconds, DateTimeOffset Timestamp);

/// <summary>An agent's signed answers, each with the node's receipt.</summary>
public sealed record InferenceAnswers(string NodeId, string JobKey, int Slot, int Attempt, InferenceAnswer[] Answers, DateTimeOffset Timestamp);

public sealed record InferenceAnswer(string RequestId, InferenceReceipt Receipt);

/// <summary>What routing a request came to: the receipt of the node that answered, or why none did.</summary>
[GenerateSerializer, Immutable, Alias("DePIN.Routed")]
public sealed record Routed([property: Id(0)] InferenceReceipt? Receipt, [property: Id(1)] int Attempts, [property: Id(2)] string? Error);

/// <summary>A serving node as the router knows it.</summary>
/// <param name="Reputation">0 to 1, from verified results (new nodes start at 0.5).</param>
[GenerateSerializer, Immutable, Alias("DePIN.ServingPlace")]
public sealed record ServingPlace(
    [property: Id(0)] string NodeId, [property: Id(1)] string Region, [property: Id(2)] double Latitude, [property: Id(3)] double Longitude,
    [property: Id(4)] double Reputation);

/// <summary>
/// The router of one model version (key: its hash) and the inboxes of the nodes serving it. Serving nodes announce
/// themselves by polling; requests go to the node expected to answer soonest, and to the next when one times out.
/// </summary>
[Alias("DePIN.IServingGrain")]
public interface IServingGrain : IGrainWithStringKey
{
    [Alias("Infer")]
    Task<Routed> Infer(byte[] input, double latitude, double longitude, string? residency);

    [Alias("Poll"), AlwaysInterleave]
    Task<InferenceTask[]> Poll(ServingPlace node, TimeSpan wait);

    [Alias("Answer"), AlwaysInterleave]
    Task Answer(string nodeId, string requestId, InferenceReceipt receipt);
}

/// <summary>Orleans' form of an <see cref="InferenceReceipt"/> (a DePIN.Core type, which knows nothing of Orleans).</summary>
[GenerateSerializer, Alias("DePIN.InferenceReceiptSurrogate")]
public struct InferenceReceiptSurrogate
{
    [Id(0)] public string ModelHash;
    [Id(1)] public string NodeId;
    [Id(2)] public string InputHash;
    [Id(3)] public string Answer;
    [Id(4)] public float[] Probabilities;
    [Id(5)] public DateTimeOffset At;
    [Id(6)] public string PublicKey;
    [Id(7)] public string Signature;
}

[RegisterConverter]
public sealed class InferenceReceiptConverter : IConverter<InferenceReceipt, InferenceReceiptSurrogate>
{
    public InferenceReceipt ConvertFromSurrogate(in InferenceReceiptSurrogate s) =>
        new(s.ModelHash, s.NodeId, s.InputHash, s.Answer, s.Probabilities, s.At, s.PublicKey, s.Signature);

    public InferenceReceiptSurrogate ConvertToSurrogate(in InferenceReceipt r) => new()
    {
        ModelHash = r.ModelHash, NodeId = r.NodeId, InputHash = r.InputHash, Answer = r.Answer, Probabilities = r.Probabilities,
        At = r.At, PublicKey = r.PublicKey, Signature = r.Signature,
    };
}
