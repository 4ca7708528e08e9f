using ChatOpsInspector.Operations;
using ChatOpsInspector.State;

namespace ChatOpsInspector.Workflow;

/// <summary>
/// Runs remediation steps from the durable queue: suppression expiry (and deleting its filter),
/// the SSM check of a new request, the start of an approved run, approval expiry, progress polling, the stall watchdog, the post-patch rescan check. A step that fails is retried
/// with backoff; a replica that dies mid-step leaves it to another after the lease.
/// </summary>
internal sealed partial class RemediationWorker(
    IWorkQueue queue,
    SuppressionWorkflow suppressions,
    PatchWorkflow patches,
    TimeProvider time,
    ILogger<RemediationWorker> logger) : BackgroundService
{
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(1);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        QueuePolling.RunAsync(RunDueAsync, Idle, time, ex =>
        {
            AppMetrics.Errors.WithLabels("remediation").Inc();
            LogLoopFailed(ex);
        }, stoppingToken);

    /// <summary>One pass over due steps; returns how many ran.</summary>
    public async Task<int> RunDueAsync(CancellationToken cancellationToken)
    {
        var items = await queue.ClaimAsync(Queues.Remediation, 32, Lease, time.GetUtcNow(), cancellationToken);
        foreach (var item in items)
        {
            var job = RemediationJob.FromJson(item.Payload);
            if (job is null)
            {
                await queue.CompleteAsync(Queues.Remediation, item, time.GetUtcNow(), cancellationToken);
                continue;
            }
            try
            {
                DateTimeOffset? again = null;
                switch (job.Kind)
                {
                    case RemediationJob.SuppressionExpiry:
                        await suppressions.LiftAsync(job.GroupId, Actor.System, job.FilterArn, "Suppression expired", cancellationToken);
                        break;
                    case RemediationJob.DeleteFilter:
                        await suppressions.DeleteFilterAsync(job, cancellationToken);
                        break;
                    case RemediationJob.FilterSweep:
                        await suppressions.SweepFiltersAsync(job, cancellationToken);
                        break;
                    case RemediationJob.ApprovalExpiry:
                        await patches.ExpireAsync(job, cancellationToken);
                        break;
                    case RemediationJob.RequestCheck:
                        await patches.CheckAsync(job, cancellationToken);
                        break;
                    case RemediationJob.StartRun:
                        await patches.StartAsync(job, cancellationToken);
                        break;
                    case RemediationJob.PatchPoll:
                        again = await patches.PollAsync(job, cancellationToken);
                        break;
                    case RemediationJob.Watchdog:
                        again = await patches.WatchAsync(job, cancellationToken);
                        break;
                    case RemediationJob.RescanCheck:
                        await patches.CheckRescanAsync(job, cancellationToken);
                        break;
                    default:
                        LogUnknown(job.Kind, job.GroupId);
                        break;
                }
                if (again is { } at)
                {
                    await queue.RescheduleAsync(Queues.Remediation, item, at, cancellationToken);
                }
                else
                {
                    await queue.CompleteAsync(Queues.Remediation, item, time.GetUtcNow(), cancellationToken);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                AppMetrics.Errors.WithLabels("remediation").Inc();
                var retry = job with { Attempt = job.Attempt + 1 };
                var delay = TimeSpan.FromSeconds(Math.Min(3600, 5 * Math.Pow(2, Math.Min(job.Attempt, 10))));
                LogStepFailed(ex, job.Kind, job.GroupId, retry.Attempt, delay);
                await queue.EnqueueAsync(Queues.Remediation, item.Id, retry.ToJson(), time.GetUtcNow() + delay, cancellationToken);
            }
        }
        return items.Count;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Remediation pass failed; claimed steps come back after their lease")]
    private partial void LogLoopFailed(Exception ex);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Remediation step {Kind} for group {GroupId} failed (attempt {Attempt}); retrying in {Delay}")]
    private partial void LogStepFailed(Exception ex, string kind, string groupId, int attempt, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Unknown remediation step {Kind} for group {GroupId} dropped")]
    private partial void LogUnknown(string kind, string groupId);
}
