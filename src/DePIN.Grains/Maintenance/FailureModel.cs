using DePIN.Core.Maintenance;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace DePIN.Grains.Maintenance;

/// <summary>One labelled moment of a node's history: its evidence then, and whether it failed within the horizon.</summary>
[GenerateSerializer, Immutable, Alias("DePIN.FailureExample")]
public readonly record struct FailureExample([property: Id(0)] float[] Features, [property: Id(1)] bool Failed);

/// <summary>
/// A failure model learnt from the fleet's own history with ML.NET's FastTree (gradient-boosted trees), its output
/// calibrated to a probability. Thread-safe: each thread predicts with its own engine.
/// </summary>
public sealed class FailureModel : IFailureRisk, IDisposable
{
    public const string Source = "model";

    private readonly MLContext _ml;
    private readonly ITransformer _model;
    private readonly ThreadLocal<PredictionEngine<Row, Prediction>> _engines;

    private readonly DataViewSchema _schema;

    private FailureModel(MLContext ml, ITransformer model, DataViewSchema schema, int examples, int failures)
    {
        _ml = ml;
        _model = model;
        _schema = schema;
        Examples = examples;
        Failures = failures;
        _engines = new ThreadLocal<PredictionEngine<Row, Prediction>>(() => _ml.Model.CreatePredictionEngine<Row, Prediction>(_model), trackAllValues: true);
    }

    /// <summary>How many examples it learnt from, and how many of those were failures.</summary>
    public int Examples { get; }

    public int Failures { get; }

    /// <summary>
    /// Learns from <paramref name="examples"/>, or returns null when they are too few to learn from: fewer than
    /// <paramref name="minimumFailures"/> failures or as many non-failures.
    /// </summary>
    public static FailureModel? Train(IReadOnlyCollection<FailureExample> examples, int seed, int minimumFailures = 20)
    {
        var failures = examples.Count(e => e.Failed);
        if (failures < minimumFailures || examples.Count - failures < minimumFailures)
        {
            return null;
        }

        var ml = new MLContext(seed);
        var data = ml.Data.LoadFromEnumerable(examples.Select(e => new Row { Features = e.Features, Label = e.Failed }));
        var trainer = ml.BinaryClassification.Trainers.FastTree(new Microsoft.ML.Trainers.FastTree.FastTreeBinaryTrainer.Options
        {
            // Small trees with many moments per leaf: an isolated event should not become a rule of its own.
            NumberOfLeaves = 8,
            NumberOfTrees = 100,
            MinimumExampleCountPerLeaf = 100,
            LearningRate = 0.1,
        });
        return new FailureModel(ml, trainer.Fit(data), data.Schema, examples.Count, failures);
    }

    /// <summary>The model as ML.NET's zip, with how much it learnt from, for storage and for other silos.</summary>
    public byte[] Save()
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Examples);
            writer.Write(Failures);
        }

        _ml.Model.Save(_model, _schema, stream);
        return stream.ToArray();
    }

    /// <summary>A model saved by <see cref="Save"/>.</summary>
    public static FailureModel Load(byte[] saved)
    {
        using var stream = new MemoryStream(saved, writable: false);
        using var reader = new BinaryReader(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        var examples = reader.ReadInt32();
        var failures = reader.ReadInt32();
        var ml = new MLContext();
        var model = ml.Model.Load(stream, out var schema);
        return new FailureModel(ml, model, schema, examples, failures);
    }

    public RiskAssessment Assess(float[] features)
    {
        var prediction = _engines.Value!.Predict(new Row { Features = features });
        return new RiskAssessment(prediction.Probability, Source, $"learnt from {Examples} moments, {Failures} before failures");
    }

    public void Dispose()
    {
        foreach (var engine in _engines.Values)
        {
            engine.Dispose();
        }

        _engines.Dispose();
    }

    private sealed class Row
    {
        [VectorType(NodeHealth.FeatureCount)]
        public float[] Features { get; set; } = [];

        public bool Label { get; set; }
    }

    private sealed class Prediction
    {
        public float Probability { get; set; }
    }
}
