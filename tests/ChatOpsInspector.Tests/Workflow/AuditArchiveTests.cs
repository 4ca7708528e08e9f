using System.Text;
using System.Text.Json;
using Amazon.Runtime;
using ChatOpsInspector.State;
using ChatOpsInspector.Tests.Infrastructure;
using ChatOpsInspector.Workflow;
using Microsoft.Extensions.DependencyInjection;

namespace ChatOpsInspector.Tests.Workflow;

/// <summary>
/// The audit archive in S3 as production writes it: the real AWS SDK S3 client (ServiceURL, path
/// style) against a fake S3 that checks the signature, the Object Lock headers and the checksum; only
/// records S3 has taken leave Redis.
/// </summary>
public sealed class AuditArchiveTests(RedisServer redis) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private const string Group = "0123456789abcdef0123456789abcdef";
    private FakeS3 _s3 = null!;

    public async Task InitializeAsync() => _s3 = await FakeS3.StartAsync();

    public async Task DisposeAsync() => await _s3.DisposeAsync();

    private TestApp App(bool bucket = true) => new(TestApp.WithRedis(redis, new()
    {
        ["Aws:Region"] = "eu-central-1",
        ["Audit:Archive:Bucket"] = bucket ? "audit-evidence" : "",
        ["Audit:Archive:ServiceUrl"] = _s3.Server.BaseUrl,
        ["Audit:Archive:ObjectLockMode"] = "COMPLIANCE",
        ["Audit:Archive:RetentionDays"] = "400",
        ["Audit:Archive:IntervalMinutes"] = "1440",
    }), services => services.AddSingleton<AWSCredentials>(new BasicAWSCredentials(FakeS3.AccessKey, FakeS3.Secret)));

    private static AuditRecord Record(int i, DateTimeOffset at) => new()
    {
        At = at, Action = "acknowledged", ActorPlatform = "slack", ActorWorkspace = "T0001", ActorId = "U" + i, ActorName = "user " + i, GroupId = Group, Owner = "payments",
    };

    [Fact]
    public async Task ArchivedRecordsAreWrittenAsDatedLockedObjectsAndOnlyThenTrimmedFromRedis()
    {
        await using var app = App();
        app.Client();
        var audit = app.Service<IAuditLog>();
        var day1 = new DateTimeOffset(2026, 11, 30, 22, 0, 0, TimeSpan.Zero);
        for (var i = 0; i < 5; i++)
        {
            await audit.AppendAsync(Record(i, day1.AddHours(i)), default); // 22:00 .. 02:00: two days
        }

        var written = await app.Service<AuditArchiver>().RunOnceAsync(default);

        Assert.Equal(2, written);
        var objects = _s3.Objects.Values.OrderBy(o => o.Key, StringComparer.Ordinal).ToArray();
        Assert.Equal(2, objects.Length);
        Assert.All(objects, o =>
        {
            Assert.Equal("audit-evidence", o.Bucket);
            Assert.Equal("eu-central-1", o.SigningRegion);
            Assert.Equal("COMPLIANCE", o.Headers["x-amz-object-lock-mode"]);
            var until = DateTimeOffset.Parse(o.Headers["x-amz-object-lock-retain-until-date"], System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(until, DateTimeOffset.UtcNow.AddDays(399), DateTimeOffset.UtcNow.AddDays(401));
            Assert.Equal("SHA256", o.Headers["x-amz-sdk-checksum-algorithm"]);
        });
        Assert.Matches(@"^audit/2026/11/30/\d+/\d+-0_\d+-0\.jsonl$", objects[0].Key);
        Assert.Matches(@"^audit/2026/12/01/\d+/\d+-0_\d+-0\.jsonl$", objects[1].Key);
        Assert.Empty(_s3.Rejected);

        // The archive verifies on its own: each line's hash covers its record text and the line before it.
        var lines = objects.SelectMany(o => Encoding.UTF8.GetString(o.Body).Split('\n', StringSplitOptions.RemoveEmptyEntries)).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal(["U0", "U1", "U2", "U3", "U4"], lines.Select(l => JsonDocument.Parse(l.GetProperty("record").GetString()!).RootElement.GetProperty("actorId").GetString()));
        var prev = AuditChain.Genesis;
        foreach (var line in lines)
        {
            Assert.Equal(prev, line.GetProperty("prevHash").GetString());
            Assert.Equal(AuditChain.Hash(prev, Encoding.UTF8.GetBytes(line.GetProperty("record").GetString()!)), line.GetProperty("hash").GetString());
            prev = line.GetProperty("hash").GetString()!;
        }

        // Archived records left Redis; the chain continues from the last archived hash.
        Assert.Equal(0, (await audit.VerifyAsync(default)).Checked);
        await audit.AppendAsync(Record(5, DateTimeOffset.UtcNow), default);
        var after = await audit.VerifyAsync(default);
        Assert.True(after.Intact);
        Assert.Equal(1, after.Checked);
        Assert.Equal(prev, after.Chains.Single(c => c.Records == 1).FirstPrevHash);
    }

    [Fact]
    public async Task WhenS3RefusesNothingIsTrimmed()
    {
        await using var app = App();
        app.Client();
        var audit = app.Service<IAuditLog>();
        await audit.AppendAsync(Record(1, DateTimeOffset.UtcNow.AddMinutes(-2)), default);
        await audit.AppendAsync(Record(2, DateTimeOffset.UtcNow.AddMinutes(-1)), default);
        _s3.Unavailable = true;

        await Assert.ThrowsAnyAsync<Exception>(() => app.Service<AuditArchiver>().RunOnceAsync(default));

        Assert.Empty(_s3.Objects);
        Assert.Contains(_s3.Rejected, r => r.StartsWith("SlowDown", StringComparison.Ordinal));
        Assert.Equal(2, (await audit.VerifyAsync(default)).Checked);
        Assert.Equal(2, (await audit.ReadPageAsync(DateTimeOffset.UnixEpoch, DateTimeOffset.MaxValue, 10, null, default)).Records.Count);
    }

    [Fact]
    public async Task WithoutABucketNothingIsArchivedOrTrimmed()
    {
        await using var app = App(bucket: false);
        app.Client();
        var audit = app.Service<IAuditLog>();
        await audit.AppendAsync(Record(1, DateTimeOffset.UtcNow), default);

        Assert.Equal(0, await app.Service<AuditArchiver>().RunOnceAsync(default));

        Assert.Empty(_s3.Server.Requests);
        Assert.Equal(1, (await audit.VerifyAsync(default)).Checked);
    }
}
