using DePIN.Core.Datasets;
using Npgsql;

namespace DePIN.Grains.Datasets;

/// <summary>One leaf as stored: the record's row in <c>depin_dataset_records</c>.</summary>
public sealed record LeafRow(
    long LeafIndex,
    byte[] ContentHash,
    byte[] LeafHash,
    Contribution Record,
    string Region,
    byte[] Canonical,
    byte[] PublicKey,
    byte[] Signature,
    DateTimeOffset AppendedAt);

/// <summary>A signed tree head as stored.</summary>
public sealed record HeadRow(long Size, byte[] Root, DateTimeOffset SignedAt, byte[] Signature, string KeyId);

/// <summary>
/// The datasets' tables in PostgreSQL (schema 0002): records with their leaf hashes, the stored strata of each
/// Merkle log, and the signed tree heads. Appends are one transaction per group, so a group is durable whole or not
/// at all.
/// </summary>
public sealed class DatasetLog(NpgsqlDataSource db)
{
    /// <summary>Leaf indexes of the contents among <paramref name="hashes"/> that the dataset already holds.</summary>
    public async Task<Dictionary<string, long>> FindExisting(string dataset, IReadOnlyCollection<byte[]> hashes, CancellationToken cancellationToken = default)
    {
        var found = new Dictionary<string, long>(StringComparer.Ordinal);
        if (hashes.Count == 0)
        {
            return found;
        }

        await using var command = db.CreateCommand(
            "SELECT content_hash, leaf_index FROM depin_dataset_records WHERE dataset = $1 AND content_hash = ANY($2)");
        command.Parameters.AddWithValue(dataset);
        command.Parameters.AddWithValue(hashes.ToArray());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            found[Convert.ToHexStringLower(reader.GetFieldValue<byte[]>(0))] = reader.GetInt64(1);
        }

        return found;
    }

    /// <summary>
    /// Writes a group of leaves, the strata they complete and the head that covers them in one statement, so in one
    /// transaction and one round trip. A leaf index or content hash already taken fails the whole statement.
    /// </summary>
    public async Task Append(string dataset, IReadOnlyList<LeafRow> rows, IReadOnlyList<(MerkleNode Node, byte[] Hash)> strata, HeadRow head, CancellationToken cancellationToken = default)
    {
        await using var command = db.CreateCommand("""
            WITH records AS (
                INSERT INTO depin_dataset_records (dataset, leaf_index, content_hash, leaf_hash, node_id, sensor, sampled_at,
                                                   latitude, longitude, record, public_key, signature, appended_at, region)
                SELECT $1, * FROM unnest($2::bigint[], $3::bytea[], $4::bytea[], $5::text[], $6::text[], $7::timestamptz[],
                                         $8::float8[], $9::float8[], $10::bytea[], $11::bytea[], $12::bytea[], $13::timestamptz[], $22::text[])
                RETURNING 1),
            strata AS (
                INSERT INTO depin_dataset_strata (dataset, level, node_index, hash)
                SELECT $1, * FROM unnest($14::smallint[], $15::bigint[], $16::bytea[])
                ON CONFLICT DO NOTHING
                RETURNING 1)
            INSERT INTO depin_dataset_heads (dataset, size, root, signed_at, signature, key_id)
            VALUES ($1, $17, $18, $19, $20, $21)
            ON CONFLICT DO NOTHING
            """);
        var p = command.Parameters;
        p.AddWithValue(dataset);
        p.AddWithValue(rows.Select(r => r.LeafIndex).ToArray());
        p.AddWithValue(rows.Select(r => r.ContentHash).ToArray());
        p.AddWithValue(rows.Select(r => r.LeafHash).ToArray());
        p.AddWithValue(rows.Select(r => r.Record.NodeId).ToArray());
        p.AddWithValue(rows.Select(r => r.Record.Sensor).ToArray());
        p.AddWithValue(rows.Select(r => r.Record.SampledAt.UtcDateTime).ToArray());
        p.AddWithValue(rows.Select(r => r.Record.Latitude).ToArray());
        p.AddWithValue(rows.Select(r => r.Record.Longitude).ToArray());
        p.AddWithValue(rows.Select(r => r.Canonical).ToArray());
        p.AddWithValue(rows.Select(r => r.PublicKey).ToArray());
        p.AddWithValue(rows.Select(r => r.Signature).ToArray());
        p.AddWithValue(rows.Select(r => r.AppendedAt.UtcDateTime).ToArray());
        p.AddWithValue(strata.Select(s => (short)s.Node.Level).ToArray());
        p.AddWithValue(strata.Select(s => s.Node.Index).ToArray());
        p.AddWithValue(strata.Select(s => s.Hash).ToArray());
        p.AddWithValue(head.Size);
        p.AddWithValue(head.Root);
        p.AddWithValue(head.SignedAt.UtcDateTime);
        p.AddWithValue(head.Signature);
        p.AddWithValue(head.KeyId);
        p.AddWithValue(rows.Select(r => r.Region).ToArray());
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The latest signed head of a dataset, if it has any.</summary>
    public async Task<HeadRow?> LatestHead(string dataset, CancellationToken cancellationToken = default)
    {
        await using var command = db.CreateCommand(
            "SELECT size, root, signed_at, signature, key_id FROM depin_dataset_heads WHERE dataset = $1 ORDER BY size DESC LIMIT 1");
        command.Parameters.AddWithValue(dataset);
        return await ReadHead(command, cancellationToken);
    }

    private static async Task<HeadRow?> ReadHead(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new HeadRow(reader.GetInt64(0), reader.GetFieldValue<byte[]>(1), reader.GetFieldValue<DateTimeOffset>(2), reader.GetFieldValue<byte[]>(3), reader.GetString(4))
            : null;
    }

    /// <summary>The first signed head that covers leaf <paramref name="leafIndex"/>: the one signed with it.</summary>
    public async Task<HeadRow?> HeadCovering(string dataset, long leafIndex, CancellationToken cancellationToken = default)
    {
        await using var command = db.CreateCommand(
            "SELECT size, root, signed_at, signature, key_id FROM depin_dataset_heads WHERE dataset = $1 AND size > $2 ORDER BY size LIMIT 1");
        command.Parameters.AddWithValue(dataset);
        command.Parameters.AddWithValue(leafIndex);
        return await ReadHead(command, cancellationToken);
    }

    /// <summary>Leaf hashes from <paramref name="from"/> on, in order: what a restarted grain replays onto its frontier.</summary>
    public async Task<List<byte[]>> LeafHashesFrom(string dataset, long from, CancellationToken cancellationToken = default)
    {
        await using var command = db.CreateCommand(
            "SELECT leaf_hash FROM depin_dataset_records WHERE dataset = $1 AND leaf_index >= $2 ORDER BY leaf_index");
        command.Parameters.AddWithValue(dataset);
        command.Parameters.AddWithValue(from);
        var hashes = new List<byte[]>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            hashes.Add(reader.GetFieldValue<byte[]>(0));
        }

        return hashes;
    }

    /// <summary>
    /// <paramref name="count"/> stored hashes at <paramref name="level"/> from node <paramref name="from"/> on:
    /// leaf hashes at level 0, strata above (see <see cref="MerkleStrata"/>). Fewer when some are missing.
    /// </summary>
    public async Task<IReadOnlyList<byte[]>> ReadHashes(string dataset, int level, long from, int count, CancellationToken cancellationToken = default)
    {
        await using var command = db.CreateCommand(level == 0
            ? "SELECT leaf_hash FROM depin_dataset_records WHERE dataset = $1 AND leaf_index >= $2 AND leaf_index < $3 ORDER BY leaf_index"
            : "SELECT hash FROM depin_dataset_strata WHERE dataset = $1 AND level = $4 AND node_index >= $2 AND node_index < $3 ORDER BY node_index");
        command.Parameters.AddWithValue(dataset);
        command.Parameters.AddWithValue(from);
        command.Parameters.AddWithValue(from + count);
        if (level != 0)
        {
            command.Parameters.AddWithValue((short)level);
        }

        var hashes = new List<byte[]>(count);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            hashes.Add(reader.GetFieldValue<byte[]>(0));
        }

        return hashes;
    }

    /// <summary>Records of the first <paramref name="size"/> leaves per contributor, per region and per sensor type.</summary>
    public async Task<(List<(string, long)> Contributors, List<(string, long)> Regions, List<(string, long)> Sensors)> Sources(
        string dataset, long size, CancellationToken cancellationToken = default)
    {
        await using var command = db.CreateCommand("""
            SELECT GROUPING(node_id), GROUPING(region), node_id, region, sensor, count(*)
            FROM depin_dataset_records WHERE dataset = $1 AND leaf_index < $2
            GROUP BY GROUPING SETS ((node_id), (region), (sensor))
            ORDER BY count(*) DESC, 3, 4, 5
            """);
        command.Parameters.AddWithValue(dataset);
        command.Parameters.AddWithValue(size);
        List<(string, long)> contributors = [], regions = [], sensors = [];
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var count = reader.GetInt64(5);
            if (reader.GetInt32(0) == 0)
            {
                contributors.Add((reader.GetString(2), count));
            }
            else if (reader.GetInt32(1) == 0)
            {
                regions.Add((reader.GetString(3), count));
            }
            else
            {
                sensors.Add((reader.GetString(4), count));
            }
        }

        return (contributors, regions, sensors);
    }

    /// <summary>Each contributor's records among leaves <paramref name="from"/> to <paramref name="to"/> − 1, by node id.</summary>
    public async Task<List<(string NodeId, long Records)>> ContributorsBetween(string dataset, long from, long to, CancellationToken cancellationToken = default)
    {
        await using var command = db.CreateCommand("""
            SELECT node_id, count(*) FROM depin_dataset_records
            WHERE dataset = $1 AND leaf_index >= $2 AND leaf_index < $3
            GROUP BY node_id ORDER BY node_id COLLATE "C"
            """);
        command.Parameters.AddWithValue(dataset);
        command.Parameters.AddWithValue(from);
        command.Parameters.AddWithValue(to);
        var contributors = new List<(string, long)>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            contributors.Add((reader.GetString(0), reader.GetInt64(1)));
        }

        return contributors;
    }

    /// <summary>Keeps a snapshot's manifest (JSON); a snapshot at the same size already kept wins.</summary>
    public async Task SaveSnapshot(string dataset, long size, DateTimeOffset createdAt, string manifest, CancellationToken cancellationToken = default)
    {
        await using var command = db.CreateCommand(
            "INSERT INTO depin_dataset_snapshots (dataset, size, created_at, manifest) VALUES ($1, $2, $3, $4::jsonb) ON CONFLICT DO NOTHING");
        command.Parameters.AddWithValue(dataset);
        command.Parameters.AddWithValue(size);
        command.Parameters.AddWithValue(createdAt.UtcDateTime);
        command.Parameters.AddWithValue(manifest);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The manifest (JSON) of the snapshot at <paramref name="size"/>, if one was taken.</summary>
    public async Task<string?> LoadSnapshot(string dataset, long size, CancellationToken cancellationToken = default)
    {
        await using var command = db.CreateCommand("SELECT manifest::text FROM depin_dataset_snapshots WHERE dataset = $1 AND size = $2");
        command.Parameters.AddWithValue(dataset);
        command.Parameters.AddWithValue(size);
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }

    /// <summary>The first <paramref name="size"/> records in leaf order, as stored: for exports.</summary>
    public async IAsyncEnumerable<StoredRecord> Records(string dataset, long size, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await using var command = db.CreateCommand(
            "SELECT leaf_index, content_hash, region, record, public_key, signature FROM depin_dataset_records WHERE dataset = $1 AND leaf_index < $2 ORDER BY leaf_index");
        command.Parameters.AddWithValue(dataset);
        command.Parameters.AddWithValue(size);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            yield return new StoredRecord(reader.GetInt64(0), reader.GetFieldValue<byte[]>(1), reader.GetString(2),
                reader.GetFieldValue<byte[]>(3), reader.GetFieldValue<byte[]>(4), reader.GetFieldValue<byte[]>(5));
        }
    }
}

/// <summary>A record as an export reads it: its leaf, address, contributor's region and what the node signed.</summary>
public sealed record StoredRecord(long LeafIndex, byte[] ContentHash, string Region, byte[] Canonical, byte[] PublicKey, byte[] Signature);
