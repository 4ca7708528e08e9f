using System.Security.Cryptography;
using System.Text;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.Aws;
using ChatOpsInspector.Findings.SecurityHub;
using ChatOpsInspector.Operations;
using ChatOpsInspector.State;
using Microsoft.Extensions.Options;

namespace ChatOpsInspector.Workflow;

/// <summary>What Security Hub should say about a group's findings: a workflow status and a note.</summary>
internal sealed record SecurityHubStatus(string Workflow, string Note)
{
    /// <summary>OCSF <c>status_id</c> for BatchUpdateFindingsV2: 1 New, 2 In Progress, 3 Suppressed, 4 Resolved.</summary>
    public int OcsfStatusId => Workflow switch
    {
        "NOTIFIED" => 2,
        "SUPPRESSED" => 3,
        "RESOLVED" => 4,
        _ => 1,
    };

    /// <summary>ASFF note text and the V2 comment are both at most 512 characters.</summary>
    public const int MaxNote = 512;

    public static SecurityHubStatus? For(AlertGroup group)
    {
        var wf = group.Workflow;
        return wf.State switch
        {
            GroupState.Acknowledged => new("NOTIFIED", $"Acknowledged by {Who(wf.AcknowledgedBy)} in ChatOpsInspector"),
            GroupState.Assigned => new("NOTIFIED", $"Assigned to {Who(wf.AssignedTo)} by {Who(wf.AssignedBy)} in ChatOpsInspector"),
            GroupState.PatchRequested or GroupState.Patching or GroupState.Patched =>
                new("NOTIFIED", $"Patching in ChatOpsInspector, requested by {Who(wf.Patch?.RequestedBy ?? wf.AcknowledgedBy)}"),
            GroupState.Isolated =>
                new("NOTIFIED", $"Instances isolated in ChatOpsInspector, approved by {Who(wf.Patch?.DecidedBy)}"),
            GroupState.Suppressed when wf.Suppression is { } s =>
                new("SUPPRESSED", $"Suppressed by {Who(s.By)} until {s.ExpiresAt:yyyy-MM-dd HH:mm} UTC: {s.Reason}"),
            GroupState.Suppressed => new("SUPPRESSED", "Suppressed in Amazon Inspector"),
            GroupState.Resolved => new("RESOLVED", "Verified fixed: Amazon Inspector closed every finding"
                + (wf.TimeToFix is { } ttf ? $" (time to fix {Cards.AlertCardBuilder.FormatDuration(ttf)})" : "")),
            _ => new("NEW", $"Reopened in ChatOpsInspector ({wf.ReopenCount} time(s))"),
        };
    }

    private static string Who(Actor? actor) => actor is null ? "someone" : $"{actor.DisplayName} ({actor.Platform} {actor.UserId})";
}

/// <summary>
/// Tells the write-back queue about groups whose Security Hub status may have to change. Runs on every
/// publish, so it costs nothing for the common case: a new group nobody has triaged.
/// </summary>
internal sealed class SecurityHubWriteBackObserver(IWorkQueue queue, TimeProvider time) : IAlertGroupObserver
{
    public Task OnGroupChangedAsync(AlertGroup group, CancellationToken cancellationToken) =>
        group.Workflow.State == GroupState.New && group.Workflow.ReopenCount == 0
            ? Task.CompletedTask
            : queue.TouchAsync(SecurityHubWriteBack.Queue, group.Id, time.GetUtcNow(), cancellationToken);
}

/// <summary>
/// Writes each triaged group's status to its findings in Security Hub, from a durable queue: the chat
/// action never waits for it, a failure is retried with backoff across restarts and replicas, and
/// every outcome is in the audit. What was last written is remembered per group, so a group that is
/// published again unchanged costs no call; a group that gained findings writes again.
/// </summary>
internal sealed partial class SecurityHubWriteBack(
    IWorkQueue queue,
    IAlertStore store,
    IKeyValueStore kv,
    IAuditLog audit,
    ISecurityHubClient client,
    IOptions<SecurityHubOptions> options,
    TimeProvider time,
    ILogger<SecurityHubWriteBack> logger) : BackgroundService
{
    public const string Queue = "securityhub";

    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Remember = TimeSpan.FromDays(400);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromHours(1);
    private static readonly HashSet<string> RetryableUnprocessed = new(StringComparer.Ordinal) { "ConcurrentUpdateError", "InternalFailure" };

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        QueuePolling.RunAsync(RunDueAsync, Idle, time, ex =>
        {
            AppMetrics.Errors.WithLabels("securityhub").Inc();
            LogLoopFailed(ex);
        }, stoppingToken);

    public async Task<int> RunDueAsync(CancellationToken cancellationToken)
    {
        var items = await queue.ClaimAsync(Queue, 16, Lease, time.GetUtcNow(), cancellationToken);
        foreach (var item in items)
        {
            var attempt = int.TryParse(item.Payload, out var n) ? n + 1 : 1;
            try
            {
                await WriteAsync(item.Id, cancellationToken);
                await queue.CompleteAsync(Queue, item, time.GetUtcNow(), cancellationToken);
            }
            catch (Exception ex) when (ex is AwsServiceException or AwsCredentialsUnavailableException or UnprocessedException)
            {
                AppMetrics.Errors.WithLabels("securityhub").Inc();
                var requestId = (ex as AwsServiceException)?.RequestId;
                var detail = ex is AwsServiceException aws ? $"{aws.Operation}: {aws.ErrorCode}" : ex.Message;
                if (attempt >= options.Value.MaxAttempts)
                {
                    await AuditAsync(item.Id, "failed", $"gave up after {attempt} attempts; {detail}", requestId, cancellationToken);
                    await queue.CompleteAsync(Queue, item, time.GetUtcNow(), cancellationToken);
                    continue;
                }
                var delay = TimeSpan.FromSeconds(Math.Min(MaxBackoff.TotalSeconds, 5 * Math.Pow(2, attempt - 1)));
                await AuditAsync(item.Id, "retrying", $"attempt {attempt} failed, next in {delay.TotalSeconds:0}s; {detail}", requestId, cancellationToken);
                LogRetry(item.Id, attempt, detail);
                // Replaces the claimed item: due later, and carrying its attempt count.
                await queue.EnqueueAsync(Queue, item.Id, attempt.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    time.GetUtcNow() + delay, cancellationToken);
            }
        }
        return items.Count;
    }

    private async Task WriteAsync(string groupId, CancellationToken cancellationToken)
    {
        var group = await store.GetGroupAsync(groupId, cancellationToken);
        if (group is null || SecurityHubStatus.For(group) is not { } status)
        {
            return;
        }
        var note = status.Note.Length <= SecurityHubStatus.MaxNote ? status.Note : status.Note[..(SecurityHubStatus.MaxNote - 1)] + "…";
        var targets = group.Members.Select(m => Target.For(m, options.Value.Api)).SelectMany(t => t).ToArray();
        var stamp = Stamp(status.Workflow, note, targets);
        var key = "shwb:" + groupId;
        var last = await kv.GetAsync(key, cancellationToken);
        // Nothing written yet and nothing to say: Security Hub already shows NEW.
        if (last == stamp || (last is null && status.Workflow == "NEW") || targets.Length == 0)
        {
            return;
        }

        var processed = 0;
        var notFound = new List<string>();
        var requestIds = new List<string>();
        foreach (var batch in targets.GroupBy(t => (t.Ocsf, t.Region)))
        {
            foreach (var chunk in batch.Chunk(SecurityHubClient.MaxFindingsPerCall))
            {
                var result = batch.Key.Ocsf
                    ? await client.BatchUpdateFindingsV2Async(batch.Key.Region, new BatchUpdateFindingsV2Request(
                        chunk.Select(t => t.OcsfId!).ToArray(), note, status.OcsfStatusId), cancellationToken)
                    : await client.BatchUpdateFindingsAsync(batch.Key.Region, new BatchUpdateFindingsRequest(
                        chunk.Select(t => t.AsffId!).ToArray(), new NoteUpdate(note, "ChatOpsInspector"), new WorkflowUpdate(status.Workflow)), cancellationToken);
                processed += result.Processed;
                if (result.RequestId is { } id)
                {
                    requestIds.Add(id);
                }
                if (result.Unprocessed.FirstOrDefault(u => RetryableUnprocessed.Contains(u.ErrorCode)) is { } retry)
                {
                    throw new UnprocessedException($"{retry.ErrorCode} for {retry.FindingId}");
                }
                notFound.AddRange(result.Unprocessed.Select(u => $"{u.FindingId}: {u.ErrorCode}"));
            }
        }
        await kv.SetAsync(key, stamp, Remember, cancellationToken);
        var detail = $"Security Hub workflow {status.Workflow} for {processed} finding(s)"
            + (notFound.Count > 0 ? $"; not updated: {string.Join(", ", notFound.Take(5))}" : "");
        await AuditAsync(groupId, notFound.Count > 0 ? "partial" : "ok", detail, string.Join(",", requestIds), cancellationToken);
    }

    private Task AuditAsync(string groupId, string outcome, string detail, string? requestId, CancellationToken cancellationToken) =>
        audit.AppendAsync(new AuditRecord
        {
            At = time.GetUtcNow(),
            Action = "securityhub_writeback",
            ActorPlatform = Actor.System.Platform,
            ActorId = Actor.System.UserId,
            ActorName = Actor.System.DisplayName,
            GroupId = groupId,
            Detail = detail,
            Outcome = outcome,
            AwsRequestId = string.IsNullOrEmpty(requestId) ? null : requestId,
        }, cancellationToken);

    private static string Stamp(string workflow, string note, IEnumerable<Target> targets)
    {
        var text = workflow + "\n" + note + "\n" + string.Join('\n', targets.Select(t => t.Key).Order(StringComparer.Ordinal));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }

    /// <summary>One finding as one of the two APIs names it, and the region whose endpoint owns it.</summary>
    internal sealed record Target(bool Ocsf, string Region, AwsSecurityFindingIdentifier? AsffId, OcsfFindingIdentifier? OcsfId)
    {
        public string Key => Ocsf ? $"v2|{OcsfId}" : $"v1|{AsffId}";

        public static IEnumerable<Target> For(GroupMember m, SecurityHubApi api)
        {
            if (m.ProductArn is { } productArn && m.ProductFindingId is { } productId)
            {
                // Another product's finding: only the format it came in is known to name it.
                var region = SecurityHubFindings.RegionFromArn(productArn) ?? m.Region;
                yield return m.Origin == Findings.FindingOrigin.SecurityHubOcsf
                    ? new(true, region, null, new OcsfFindingIdentifier(m.AccountId, productId, productArn))
                    : new(false, region, new AwsSecurityFindingIdentifier(productId, productArn), null);
                yield break;
            }
            if (!SecurityHubFindings.IsInspectorArn(m.FindingArn))
            {
                yield break;
            }
            var parts = m.FindingArn.Split(':');
            var (partition, findingRegion) = (parts[1], parts[3]);
            var useOcsf = m.Origin switch
            {
                Findings.FindingOrigin.SecurityHubOcsf => true,
                Findings.FindingOrigin.SecurityHubAsff => false,
                _ => api != SecurityHubApi.Asff,
            };
            var both = m.Origin is null && api == SecurityHubApi.Both;
            if (!useOcsf || both)
            {
                yield return new(false, findingRegion, new AwsSecurityFindingIdentifier(
                    m.FindingArn, $"arn:{partition}:securityhub:{findingRegion}::product/aws/inspector"), null);
            }
            if (useOcsf)
            {
                yield return new(true, findingRegion, null, new OcsfFindingIdentifier(
                    m.AccountId, m.FindingArn, $"arn:{partition}:securityhub:{findingRegion}::productv2/aws/inspector"));
            }
        }
    }

    private sealed class UnprocessedException(string message) : Exception(message);

    [LoggerMessage(Level = LogLevel.Error, Message = "Security Hub write-back loop failed; continuing")]
    private partial void LogLoopFailed(Exception ex);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Security Hub write-back for group {GroupId} failed (attempt {Attempt}): {Detail}")]
    private partial void LogRetry(string groupId, int attempt, string detail);
}
