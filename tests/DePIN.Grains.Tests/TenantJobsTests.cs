using DePIN.Abstractions.Jobs;
using DePIN.Testing;
using Orleans.Core.Internal;

namespace DePIN.Grains.Tests;

/// <summary>A tenant's job index across a change of its shard count.</summary>
public sealed class TenantJobsTests
{
    [Fact]
    public async Task Rows_written_under_an_earlier_shard_count_move_home_and_list_once_as_their_latest_version()
    {
        await using var cluster = await NodeCluster.Start();
        var grains = cluster.Client;
        var at = DateTimeOffset.UnixEpoch;
        JobSummary Row(string id, JobStatus status, int minute) => new(id, "acme", JobKind.Batch, status, at, at.AddMinutes(minute));

        // Where the old layout (16 shards) put them: a shard that is neither row's home now.
        var ids = new[] { "job-a", "job-b" };
        var strayShard = Enumerable.Range(0, TenantJobs.Shards).First(i => ids.All(id => TenantJobs.Home(id) != i));
        var stray = grains.GetGrain<ITenantJobsGrain>(TenantJobs.ShardKey("acme", strayShard));
        await stray.Upsert(Row("job-a", JobStatus.Running, 1));
        await stray.Upsert(Row("job-b", JobStatus.Queued, 1));
        // job-b has changed since, under the new layout: its home shard holds the later row.
        await TenantJobs.Shard(grains, "acme", "job-b").Upsert(Row("job-b", JobStatus.Succeeded, 2));

        // The old shard is read again as after a restart: it finds rows that are not its own.
        await stray.Cast<IGrainManagementExtension>().DeactivateOnIdle();
        var listed = await TenantJobs.List(grains, "acme", new JobQuery(null, null, 10));

        Assert.Equal([("job-a", JobStatus.Running), ("job-b", JobStatus.Succeeded)], listed.Select(j => (j.JobId, j.Status)));
        await Wait.Until(async () => await stray.List(new JobQuery(null, null, 10)), rows => rows.Length == 0, "the old shard to hand its rows home");
        Assert.Equal(JobStatus.Running, (await TenantJobs.Shard(grains, "acme", "job-a").List(new JobQuery(null, null, 10))).Single().Status);
        Assert.Equal(JobStatus.Succeeded, (await TenantJobs.Shard(grains, "acme", "job-b").List(new JobQuery(null, null, 10))).Single().Status);
        Assert.Equal(2, (await TenantJobs.List(grains, "acme", new JobQuery(null, null, 10))).Length);
    }
}
