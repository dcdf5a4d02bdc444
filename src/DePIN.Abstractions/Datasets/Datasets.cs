namespace DePIN.Abstractions.Datasets;

/// <summary>A field's kind, as <c>DePIN.Core.Datasets.FieldType</c>.</summary>
[GenerateSerializer, Alias("DePIN.DatasetFieldType")]
public enum DatasetFieldType
{
    Number,
    Integer,
    Text,
}

/// <summary>One field of a dataset's schema.</summary>
/// <param name="Name">The field's name in records.</param>
/// <param name="Type">number, integer or text.</param>
/// <param name="Unit">Unit of measure, e.g. <c>°C</c>.</param>
/// <param name="Min">Smallest valid value, for numbers.</param>
/// <param name="Max">Largest valid value, for numbers.</param>
/// <param name="Required">Whether every record must carry it (default true).</param>
/// <param name="Allowed">For text: the only values accepted.</param>
[GenerateSerializer, Immutable, Alias("DePIN.DatasetField")]
public sealed record DatasetField(
    [property: Id(0)] string Name,
    [property: Id(1)] DatasetFieldType Type,
    [property: Id(2)] string? Unit = null,
    [property: Id(3)] double? Min = null,
    [property: Id(4)] double? Max = null,
    [property: Id(5)] bool Required = true,
    [property: Id(6)] IReadOnlyList<string>? Allowed = null);

/// <summary>Who may contribute to a dataset.</summary>
[GenerateSerializer, Alias("DePIN.ContributorPolicyKind")]
public enum ContributorPolicyKind
{
    /// <summary>Any registered node.</summary>
    AnyRegistered,

    /// <summary>Only the nodes listed.</summary>
    AllowList,

    /// <summary>Registered nodes whose reputation is at least a minimum.</summary>
    MinReputation,
}

/// <summary>Who may contribute: a kind, with its node list or minimum reputation.</summary>
[GenerateSerializer, Immutable, Alias("DePIN.ContributorPolicy")]
public sealed record ContributorPolicy(
    [property: Id(0)] ContributorPolicyKind Kind,
    [property: Id(1)] IReadOnlyList<string>? Nodes = null,
    [property: Id(2)] double? MinReputation = null);

/// <summary>What creating a dataset sets, for good.</summary>
/// <param name="Description">What the data is.</param>
/// <param name="Licence">An SPDX identifier or licence name, e.g. <c>BSD-3-Clause</c>.</param>
/// <param name="Owner">Who owns the dataset.</param>
/// <param name="Fields">The schema.</param>
/// <param name="Contributors">Who may contribute.</param>
[GenerateSerializer, Immutable, Alias("DePIN.DatasetDefinition")]
public sealed record DatasetDefinition(
    [property: Id(0)] string Description,
    [property: Id(1)] string Licence,
    [property: Id(2)] string Owner,
    [property: Id(3)] IReadOnlyList<DatasetField> Fields,
    [property: Id(4)] ContributorPolicy Contributors)
{
    /// <summary>The schema records are checked against.</summary>
    public DePIN.Core.Datasets.DatasetSchema Schema() => Schema(Fields);

    /// <summary>The schema of <paramref name="fields"/>.</summary>
    public static DePIN.Core.Datasets.DatasetSchema Schema(IReadOnlyList<DatasetField> fields) =>
        new([.. fields.Select(f => new DePIN.Core.Datasets.FieldSpec(
            f.Name,
            f.Type switch
            {
                DatasetFieldType.Integer => DePIN.Core.Datasets.FieldType.Integer,
                DatasetFieldType.Text => DePIN.Core.Datasets.FieldType.Text,
                _ => DePIN.Core.Datasets.FieldType.Number,
            },
            f.Unit, f.Min, f.Max, f.Required, f.Allowed))]);
}

/// <summary>
/// A tree head the platform signed: the log had <see cref="Size"/> leaves with root <see cref="Root"/> at
/// <see cref="Timestamp"/>. The signature is Ed25519 over <c>depin-tree-head-v1\0</c>, the dataset name (uint32
/// byte length and UTF-8), the size and the timestamp in Unix milliseconds (int64 little-endian) and the root.
/// </summary>
[GenerateSerializer, Immutable, Alias("DePIN.SignedTreeHead")]
public sealed record SignedTreeHead(
    [property: Id(0)] string Dataset,
    [property: Id(1)] long Size,
    [property: Id(2)] string Root,
    [property: Id(3)] DateTimeOffset Timestamp,
    [property: Id(4)] string Signature,
    [property: Id(5)] string KeyId);

/// <summary>A record as a node signed it: canonical bytes (see <c>DePIN.Core.Datasets.Contribution</c>), key, signature.</summary>
[GenerateSerializer, Immutable, Alias("DePIN.SignedContribution")]
public sealed record SignedContribution(
    [property: Id(0)] byte[] Record,
    [property: Id(1)] byte[] PublicKey,
    [property: Id(2)] byte[] Signature);

/// <summary>
/// Proof of acceptance: the record's address and leaf, and the first signed tree head that includes it. A retry of
/// the same record gets the first call's receipt.
/// </summary>
[GenerateSerializer, Immutable, Alias("DePIN.ContributionReceipt")]
public sealed record ContributionReceipt(
    [property: Id(0)] string ContentHash,
    [property: Id(1)] long LeafIndex,
    [property: Id(2)] SignedTreeHead TreeHead,
    [property: Id(3)] bool Duplicate);

/// <summary>Why a contribution was refused: which rule, and per field what failed.</summary>
[GenerateSerializer, Immutable, Alias("DePIN.ContributionRejection")]
public sealed record ContributionRejection(
    [property: Id(0)] string Reason,
    [property: Id(1)] string Detail,
    [property: Id(2)] IReadOnlyDictionary<string, string[]>? Fields = null);

/// <summary>The answer to a contribution: a receipt, or a rejection that changed nothing.</summary>
[GenerateSerializer, Immutable, Alias("DePIN.ContributionResult")]
public sealed record ContributionResult(
    [property: Id(0)] ContributionReceipt? Receipt,
    [property: Id(1)] ContributionRejection? Rejection);

/// <summary>A dataset as readers see it: its definition and its latest signed tree head.</summary>
[GenerateSerializer, Immutable, Alias("DePIN.DatasetInfo")]
public sealed record DatasetInfo(
    [property: Id(0)] string Name,
    [property: Id(1)] DatasetDefinition Definition,
    [property: Id(2)] DateTimeOffset CreatedAt,
    [property: Id(3)] SignedTreeHead TreeHead);

/// <summary>Hashes (hex) that prove a leaf's inclusion or two heads' consistency, per RFC 9162.</summary>
[GenerateSerializer, Immutable, Alias("DePIN.MerkleProofView")]
public sealed record MerkleProofView(
    [property: Id(0)] long LeafIndex,
    [property: Id(1)] long FirstSize,
    [property: Id(2)] long TreeSize,
    [property: Id(3)] IReadOnlyList<string> Hashes);

/// <summary>A dataset: one grain per name. Creation is idempotent for the same definition.</summary>
[Alias("DePIN.IDatasetGrain")]
public interface IDatasetGrain : IGrainWithStringKey
{
    /// <summary>Creates the dataset; null when created (or already created with this definition), else why not.</summary>
    [Alias("Create")]
    Task<string?> Create(DatasetDefinition definition);

    /// <summary>Null when the dataset does not exist.</summary>
    [Alias("Get")]
    Task<DatasetInfo?> Get();

    /// <summary>Validates, deduplicates and appends; answers only once the record is durable, or with the rejection.</summary>
    [Alias("Contribute")]
    Task<ContributionResult> Contribute(SignedContribution contribution);

    /// <summary>RFC 9162 inclusion proof of a leaf in the tree of <paramref name="treeSize"/> leaves; null when out of range.</summary>
    [Alias("ProveInclusion"), Orleans.Concurrency.ReadOnly, Orleans.Concurrency.AlwaysInterleave]
    Task<MerkleProofView?> ProveInclusion(long leafIndex, long treeSize);

    /// <summary>RFC 9162 consistency proof between two tree sizes; null when out of range.</summary>
    [Alias("ProveConsistency"), Orleans.Concurrency.ReadOnly, Orleans.Concurrency.AlwaysInterleave]
    Task<MerkleProofView?> ProveConsistency(long firstSize, long secondSize);

    /// <summary>The leaf index of a record by its content hash (hex); null when it is not in the log.</summary>
    [Alias("Find"), Orleans.Concurrency.ReadOnly, Orleans.Concurrency.AlwaysInterleave]
    Task<long?> Find(string contentHash);

    /// <summary>Takes a snapshot at the current tree head (the same one again if it exists); null when there is no dataset.</summary>
    [Alias("Snapshot")]
    Task<SnapshotManifest?> Snapshot();

    /// <summary>The snapshot taken at <paramref name="size"/> records; null when none was.</summary>
    [Alias("GetSnapshot"), Orleans.Concurrency.ReadOnly, Orleans.Concurrency.AlwaysInterleave]
    Task<SnapshotManifest?> GetSnapshot(long size);
}

/// <summary>Why contributions are refused: the <c>reason</c> of a rejection and of depin_dataset_contributions_total.</summary>
public static class ContributionReasons
{
    public const string UnknownDataset = "unknown_dataset";
    public const string Malformed = "malformed";
    public const string BadSignature = "bad_signature";
    public const string Schema = "schema";
    public const string UnknownContributor = "unknown_contributor";
    public const string Unauthorised = "unauthorised";
    public const string Quarantined = "quarantined";
    public const string NearDuplicate = "near_duplicate";
}

/// <summary>
/// A contribution over HTTP: the record (its values JSON numbers or strings), the contributing node's public key and
/// its Ed25519 signature of the record's canonical bytes (base64), see <see cref="DePIN.Core.Datasets.Contribution"/>.
/// </summary>
public sealed record ContributionRequest(DePIN.Core.Datasets.Contribution Record, string PublicKey, string Signature)
{
    /// <summary>A node's signed contribution of <paramref name="record"/>, ready to post.</summary>
    public static ContributionRequest Sign(DePIN.Core.Datasets.Contribution record, DePIN.Core.Identity.NodeSigner signer)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(signer);
        return new(record, Convert.ToBase64String(signer.PublicKey), Convert.ToBase64String(signer.Sign(record.ToCanonical())));
    }
}

/// <summary>The platform's public keys: the one that signs tree heads.</summary>
public sealed record PlatformKeys(string TreeHeadKeyId, string TreeHeadPublicKey);

/// <summary>Where a record sits in its dataset's log.</summary>
public sealed record RecordLocation(string ContentHash, long LeafIndex);

/// <summary>How many records one source (a contributor, a region or a device type) gave.</summary>
[GenerateSerializer, Immutable, Alias("DePIN.SourceCount")]
public sealed record SourceCount([property: Id(0)] string Source, [property: Id(1)] long Records);

/// <summary>
/// How evenly a snapshot's records spread over one kind of source: how many sources, the Shannon entropy of the
/// spread in bits, evenness (entropy over log2 of the sources; 1 is perfectly even) and the largest source's share.
/// </summary>
[GenerateSerializer, Immutable, Alias("DePIN.SourceDiversity")]
public sealed record SourceDiversity(
    [property: Id(0)] int Sources,
    [property: Id(1)] double EntropyBits,
    [property: Id(2)] double Evenness,
    [property: Id(3)] double TopShare);

/// <summary>
/// An immutable version of a dataset, for training jobs to cite: the signed tree head at <see cref="Size"/> records,
/// the definition, and where the records came from.
/// </summary>
[GenerateSerializer, Immutable, Alias("DePIN.SnapshotManifest")]
public sealed record SnapshotManifest(
    [property: Id(0)] string Dataset,
    [property: Id(1)] long Size,
    [property: Id(2)] string Root,
    [property: Id(3)] SignedTreeHead TreeHead,
    [property: Id(4)] DatasetDefinition Definition,
    [property: Id(5)] DateTimeOffset CreatedAt,
    [property: Id(6)] IReadOnlyList<SourceCount> Contributors,
    [property: Id(7)] IReadOnlyList<SourceCount> Regions,
    [property: Id(8)] IReadOnlyList<SourceCount> Sensors,
    [property: Id(9)] IReadOnlyDictionary<string, SourceDiversity> Diversity,
    [property: Id(10)] QualitySummary Quality);

/// <summary>One contributor's quality score (0 to 1) when the snapshot was taken, and whether it was quarantined.</summary>
[GenerateSerializer, Immutable, Alias("DePIN.ContributorQuality")]
public sealed record ContributorQuality([property: Id(0)] string NodeId, [property: Id(1)] double Score, [property: Id(2)] bool Quarantined);

/// <summary>
/// How well a snapshot's contributors agreed with their neighbours: mean and lowest score, how many were quarantined,
/// and each one's score. Scores come from the silo hosting the dataset since it last activated.
/// </summary>
[GenerateSerializer, Immutable, Alias("DePIN.QualitySummary")]
public sealed record QualitySummary(
    [property: Id(0)] double MeanScore,
    [property: Id(1)] double MinScore,
    [property: Id(2)] int Quarantined,
    [property: Id(3)] IReadOnlyList<ContributorQuality> Contributors);

/// <summary>One record of a snapshot export: its leaf, address and contributor's region, and the record as signed.</summary>
public sealed record ExportedRecord(long LeafIndex, string ContentHash, string Region, DePIN.Core.Datasets.Contribution Record, string PublicKey, string Signature);
