using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Amazon.S3;
using Amazon.S3.Model;
using ChatOpsInspector.Aws;
using ChatOpsInspector.Operations;
using ChatOpsInspector.State;
using Microsoft.Extensions.Options;

namespace ChatOpsInspector.Workflow;

/// <summary>
/// Every <see cref="AuditArchiveOptions.IntervalMinutes"/>, one replica (under a lease in the store)
/// writes the audit records not archived yet to S3 as dated JSON Lines objects — each line the record
/// exactly as stored with its chain hashes, so the archive verifies on its own — and only once S3
/// has taken an object are its records trimmed from Redis. With Object Lock configured each object is
/// written with its retention mode and retain-until date.
/// </summary>
internal sealed partial class AuditArchiver(
    IAuditLog audit,
    IKeyValueStore values,
    IAuditArchiveStore archive,
    IOptions<AuditArchiveOptions> options,
    TimeProvider time,
    ILogger<AuditArchiver> logger) : BackgroundService
{
    private const string LeaseKey = "audit:archive:lease";
    private readonly AuditArchiveOptions _options = options.Value;
    private readonly string _holder = Environment.MachineName + ":" + Guid.NewGuid().ToString("n")[..8];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.Enabled)
        {
            return;
        }
        var interval = TimeSpan.FromMinutes(_options.IntervalMinutes);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // First wait, then archive: a restarting fleet does not all race for the lease at once.
                await Task.Delay(interval, time, stoppingToken);
                await RunOnceAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                // S3 or the store is unavailable: nothing was trimmed that was not archived; the next pass retries.
                AppMetrics.Errors.WithLabels("audit_archive").Inc();
                LogArchiveFailed(ex);
            }
        }
    }

    /// <summary>One pass if this replica gets the lease; returns the number of objects written.</summary>
    public async Task<int> RunOnceAsync(CancellationToken cancellationToken)
    {
        if (!_options.Enabled)
        {
            return 0;
        }
        var lease = TimeSpan.FromMinutes(Math.Max(5, _options.IntervalMinutes));
        if (!await values.TrySetIfAbsentAsync(LeaseKey, _holder, lease, cancellationToken))
        {
            return 0;
        }
        try
        {
            var written = 0;
            foreach (var chain in audit.Chains)
            {
                while (true)
                {
                    var entries = await audit.ReadUnarchivedAsync(chain, _options.MaxRecordsPerObject, cancellationToken);
                    if (entries.Count == 0)
                    {
                        break;
                    }
                    // One object per day of records, so each object sits under the date its records carry.
                    foreach (var day in entries.GroupBy(e => DayOf(e.Id)))
                    {
                        var batch = day.ToArray();
                        await archive.PutAsync(KeyFor(chain, day.Key, batch), Lines(batch), cancellationToken);
                        await audit.MarkArchivedAsync(chain, batch[^1].Id, cancellationToken);
                        written++;
                        LogArchived(batch.Length, chain, batch[0].Id, batch[^1].Id);
                    }
                    if (entries.Count < _options.MaxRecordsPerObject)
                    {
                        break;
                    }
                }
            }
            return written;
        }
        finally
        {
            if (await values.GetAsync(LeaseKey, CancellationToken.None) == _holder)
            {
                await values.DeleteAsync(LeaseKey, CancellationToken.None);
            }
        }
    }

    private static DateOnly DayOf(string id) =>
        DateOnly.FromDateTime(DateTimeOffset.FromUnixTimeMilliseconds((long)AuditCursor.Parse(id).Ms).UtcDateTime);

    private string KeyFor(string chain, DateOnly day, StoredAuditEntry[] batch) =>
        $"{_options.Prefix}{day.ToString("yyyy/MM/dd", CultureInfo.InvariantCulture)}/{chain}/{batch[0].Id}_{batch[^1].Id}.jsonl";

    /// <summary>One JSON object per line: the stream id, both chain hashes, and the record text exactly as hashed.</summary>
    internal static byte[] Lines(IEnumerable<StoredAuditEntry> entries)
    {
        using var buffer = new MemoryStream();
        foreach (var e in entries)
        {
            using (var json = new Utf8JsonWriter(buffer))
            {
                json.WriteStartObject();
                json.WriteString("id", e.Id);
                json.WriteString("prevHash", e.PrevHash);
                json.WriteString("hash", e.Hash);
                json.WriteString("record", Encoding.UTF8.GetString(e.Record));
                json.WriteEndObject();
            }
            buffer.WriteByte((byte)'\n');
        }
        return buffer.ToArray();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Archived {Count} audit records of chain {Chain} ({FirstId} .. {LastId})")]
    private partial void LogArchived(int count, string chain, string firstId, string lastId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Audit archive pass failed; records stay in the store until the next pass")]
    private partial void LogArchiveFailed(Exception ex);
}

/// <summary>Where archive objects go: Amazon S3 in production.</summary>
internal interface IAuditArchiveStore
{
    Task PutAsync(string key, byte[] body, CancellationToken cancellationToken);
}

/// <summary>
/// Writes archive objects with the AWS SDK's S3 client. Object Lock PUTs need an integrity header
/// (S3 refuses them without Content-MD5 or x-amz-sdk-checksum-algorithm), so a SHA-256 checksum is
/// computed here and sent with the payload signed in full (no chunked upload).
/// </summary>
internal sealed class S3AuditArchiveStore(IOptions<AuditArchiveOptions> options, IOptions<AwsOptions> aws, AwsCredentialsProvider credentials, TimeProvider time)
    : IAuditArchiveStore, IDisposable
{
    private readonly AuditArchiveOptions _options = options.Value;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private AmazonS3Client? _client;

    public async Task PutAsync(string key, byte[] body, CancellationToken cancellationToken)
    {
        var client = await ClientAsync(cancellationToken);
        var request = new PutObjectRequest
        {
            BucketName = _options.Bucket,
            Key = key,
            InputStream = new MemoryStream(body, writable: false),
            ContentType = "application/x-ndjson",
            ChecksumAlgorithm = ChecksumAlgorithm.SHA256,
            ChecksumSHA256 = Convert.ToBase64String(SHA256.HashData(body)),
            UseChunkEncoding = false,
        };
        if (_options.LockMode is { } mode)
        {
            request.ObjectLockMode = mode == "COMPLIANCE" ? ObjectLockMode.Compliance : ObjectLockMode.Governance;
            request.ObjectLockRetainUntilDate = time.GetUtcNow().UtcDateTime.AddDays(_options.RetentionDays);
        }
        await client.PutObjectAsync(request, cancellationToken);
    }

    private async Task<AmazonS3Client> ClientAsync(CancellationToken cancellationToken)
    {
        if (_client is { } ready)
        {
            return ready;
        }
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_client is { } raced)
            {
                return raced;
            }
            var region = !string.IsNullOrWhiteSpace(_options.Region) ? _options.Region : aws.Value.ResolveRegion();
            var config = new AmazonS3Config { RetryMode = Amazon.Runtime.RequestRetryMode.Standard, Timeout = TimeSpan.FromSeconds(60) };
            if (!string.IsNullOrWhiteSpace(_options.ServiceUrl))
            {
                config.ServiceURL = _options.ServiceUrl;
                config.ForcePathStyle = true;
                config.AuthenticationRegion = region;
            }
            else
            {
                config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(region);
            }
            _client = new AmazonS3Client(await credentials.GetCredentialsAsync(cancellationToken), config);
            return _client;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose()
    {
        _client?.Dispose();
        _gate.Dispose();
    }
}
