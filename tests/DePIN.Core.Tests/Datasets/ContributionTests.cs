using System.Buffers.Binary;
using System.Text;
using DePIN.Core.Datasets;
using DePIN.Core.Identity;

namespace DePIN.Core.Tests.Datasets;

public sealed class ContributionTests
{
    private static readonly Contribution Reading = new(
        "seattle-weather", "NODE", "weather-station", DateTimeOffset.FromUnixTimeMilliseconds(1_325_376_000_000), 47.61, -122.33, "1.0",
        new Dictionary<string, FieldValue> { ["temp_max"] = FieldValue.Of(12.8), ["weather"] = FieldValue.Of("drizzle"), ["precipitation"] = FieldValue.Of(0) });

    [Fact]
    public void The_canonical_form_is_the_documented_byte_layout()
    {
        // Built by hand from the format's description, fields in ordinal order of their names.
        var expected = new List<byte>(Encoding.ASCII.GetBytes("depin-contribution-v1\0"));
        void Str(string s)
        {
            var b = Encoding.UTF8.GetBytes(s);
            expected.AddRange(BitConverter.GetBytes((uint)b.Length));
            expected.AddRange(b);
        }

        void F64(double d)
        {
            var b = new byte[8];
            BinaryPrimitives.WriteDoubleLittleEndian(b, d);
            expected.AddRange(b);
        }

        Str("seattle-weather");
        Str("NODE");
        Str("weather-station");
        expected.AddRange(BitConverter.GetBytes(1_325_376_000_000L));
        F64(47.61);
        F64(-122.33);
        Str("1.0");
        expected.AddRange(BitConverter.GetBytes(3u));
        Str("precipitation");
        expected.Add(1);
        F64(0);
        Str("temp_max");
        expected.Add(1);
        F64(12.8);
        Str("weather");
        expected.Add(2);
        Str("drizzle");

        Assert.Equal(expected, Reading.ToCanonical());
    }

    [Fact]
    public void A_record_decodes_from_its_canonical_form_and_nothing_else_does()
    {
        var canonical = Reading.ToCanonical();
        var decoded = Contribution.FromCanonical(canonical)!;

        Assert.Equal(canonical, decoded.ToCanonical());
        Assert.Equal("drizzle", decoded.Values["weather"].Text);
        Assert.Null(Contribution.FromCanonical([.. canonical, 0]));
        Assert.Null(Contribution.FromCanonical(canonical[..^1]));
        Assert.Null(Contribution.FromCanonical([.. canonical.Select((b, i) => i == 0 ? (byte)'x' : b)]));

        // −0 encodes as 0, so bytes holding −0 are not the canonical form of any record.
        var negativeZero = Reading with { Values = new Dictionary<string, FieldValue> { ["precipitation"] = FieldValue.Of(-0.0) } };
        var zero = Reading with { Values = new Dictionary<string, FieldValue> { ["precipitation"] = FieldValue.Of(0.0) } };
        Assert.Equal(zero.ToCanonical(), negativeZero.ToCanonical());
        var tampered = zero.ToCanonical();
        tampered[^1] = 0x80;
        Assert.Null(Contribution.FromCanonical(tampered));
    }

    [Fact]
    public void Values_that_have_no_encoding_are_refused()
    {
        Assert.Throws<ArgumentException>(() => (Reading with { Latitude = double.NaN }).ToCanonical());
        Assert.Throws<ArgumentException>(() => (Reading with { Sensor = new string('x', Contribution.MaxStringBytes + 1) }).ToCanonical());
        Assert.Throws<ArgumentException>(() => (Reading with { Sensor = "\ud800" }).ToCanonical());
    }

    [Fact]
    public void A_signature_over_the_canonical_form_verifies_with_the_node_key_and_breaks_with_any_change()
    {
        using var signer = NodeSigner.Create();
        var record = Reading with { NodeId = signer.NodeId };
        var canonical = record.ToCanonical();
        var signature = signer.Sign(canonical);
        var key = NodeIdentity.TryImportPublicKey(signer.PublicKey)!;
        var changed = (record with { Dataset = "other" }).ToCanonical();

        Assert.True(NodeIdentity.Verify(key, canonical, signature));
        Assert.False(NodeIdentity.Verify(key, changed, signature));
        Assert.Equal(32, Contribution.ContentHash(canonical).Length);
        Assert.NotEqual(Contribution.ContentHash(canonical), Contribution.ContentHash(changed));
        Assert.Equal(canonical.Length + 32 + 64, Contribution.LeafEntry(canonical, signer.PublicKey, signature).Length);
    }

    [Fact]
    public void The_schema_names_each_field_that_fails_and_why()
    {
        var schema = new DatasetSchema([
            new FieldSpec("temp_max", FieldType.Number, "°C", -60, 60),
            new FieldSpec("precipitation", FieldType.Number, "mm", 0, 500),
            new FieldSpec("weather", FieldType.Text, Allowed: ["drizzle", "rain", "sun", "snow", "fog"]),
            new FieldSpec("wind", FieldType.Number, "m/s", 0, 100, Required: false),
            new FieldSpec("station", FieldType.Integer, Required: false),
        ]);

        Assert.Empty(schema.Problems());
        Assert.Empty(schema.Check(Reading.Values));
        var errors = schema.Check(new Dictionary<string, FieldValue>
        {
            ["temp_max"] = FieldValue.Of(71),
            ["weather"] = FieldValue.Of("hail"),
            ["station"] = FieldValue.Of(1.5),
            ["humidity"] = FieldValue.Of(50),
        });

        Assert.Equal(
            ["temp_max: is 71 °C, above the maximum 60 °C.", "precipitation: is required.", "weather: must be one of drizzle, rain, sun, snow, fog, not 'hail'.",
             "station: must be a whole number, not 1.5.", "humidity: is not in the dataset's schema."],
            errors.Select(e => $"{e.Field}: {e.Reason}"));
        Assert.NotEmpty(new DatasetSchema([new FieldSpec("a", FieldType.Number, Min: 2, Max: 1), new FieldSpec("a", FieldType.Text)]).Problems());
    }
}

public sealed class DiversityTests
{
    [Fact]
    public void Entropy_is_log2_of_the_sources_when_even_and_falls_as_one_source_dominates()
    {
        var even = Diversity.Of([10, 10, 10, 10]);
        var skewed = Diversity.Of([97, 1, 1, 1]);
        var single = Diversity.Of([5, 0]);

        Assert.Equal((4, 2.0, 1.0, 0.25), (even.Sources, even.EntropyBits, even.Evenness, even.TopShare));
        // −(0.97·log2 0.97 + 3·0.01·log2 0.01), by hand.
        Assert.Equal(0.97 * -Math.Log2(0.97) + 0.03 * -Math.Log2(0.01), skewed.EntropyBits, 12);
        Assert.InRange(skewed.Evenness, 0.1, 0.13);
        Assert.Equal(0.97, skewed.TopShare, 12);
        Assert.Equal((1, 0.0, 1.0, 1.0), (single.Sources, single.EntropyBits, single.Evenness, single.TopShare));
        Assert.Equal(default, Diversity.Of([]));
    }
}
