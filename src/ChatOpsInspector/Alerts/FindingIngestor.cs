using System.Diagnostics;
using ChatOpsInspector.Findings;
using ChatOpsInspector.Operations;
using ChatOpsInspector.Routing;
using ChatOpsInspector.State;

namespace ChatOpsInspector.Alerts;

/// <summary>
/// The one pipeline every event goes through, from the HTTP endpoint or the SQS poller:
/// policy → route → group → store. Publishing happens later, from the durable group queue.
/// </summary>
internal sealed partial class FindingIngestor(
    IAlertStore store,
    AlertPolicy policy,
    FindingRouter router,
    ILogger<FindingIngestor> logger)
{
    public async Task<IngestSummary> IngestAsync(IReadOnlyList<InspectorEvent> events, CancellationToken cancellationToken)
    {
        // Routing, grouping and SLA arithmetic run for the whole batch before the first write: a finding
        // they cannot handle fails the request with nothing of the batch stored. What can still fail
        // after that is the store itself (503); each write is idempotent, so the sender's retry of the
        // whole batch stores the rest and counts the ones already written as duplicates.
        var prepared = new List<(Finding Finding, OwnerRoute Route, IngestRecord Record)>(events.Count);
        var ignored = 0;
        foreach (var evt in events)
        {
            AppMetrics.EventsReceived.WithLabels(AppMetrics.DetailTypeLabel(evt.DetailType)).Inc();
            if (evt.Finding is not { } finding)
            {
                ignored++;
                AppMetrics.EventsIgnored.Inc();
                continue;
            }
            var route = router.Route(finding);
            prepared.Add((finding, route, ToRecord(finding, route, evt.Id)));
        }
        int accepted = 0, duplicates = 0;
        foreach (var (finding, route, record) in prepared)
        {
            if (await StoreAsync(finding, route, record, cancellationToken) == IngestOutcome.Duplicate)
            {
                duplicates++;
            }
            else
            {
                accepted++;
            }
        }
        return new IngestSummary(accepted, duplicates, ignored);
    }

    public Task<IngestOutcome> IngestAsync(Finding finding, string? eventId, CancellationToken cancellationToken)
    {
        var route = router.Route(finding);
        return StoreAsync(finding, route, ToRecord(finding, route, eventId), cancellationToken);
    }

    private async Task<IngestOutcome> StoreAsync(Finding finding, OwnerRoute route, IngestRecord record, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var outcome = await store.IngestAsync(record, cancellationToken);
        AppMetrics.StoreLatency.WithLabels("ingest").Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        if (outcome == IngestOutcome.Duplicate)
        {
            AppMetrics.EventsDuplicate.Inc();
            LogDuplicate(finding.FindingArn, route.Owner);
        }
        else
        {
            AppMetrics.EventsAccepted.Inc();
            LogStored(finding.FindingArn, route.Owner, record.GroupId, outcome, finding.Status);
        }
        return outcome;
    }

    internal IngestRecord ToRecord(Finding finding, OwnerRoute route, string? eventId)
    {
        var groupingKey = policy.Options.Grouping == GroupingMode.None ? finding.FindingArn : finding.VulnerabilityId;
        var resource = finding.PrimaryResource;
        var meta = new GroupMeta
        {
            Owner = route.Owner,
            VulnerabilityId = finding.VulnerabilityId,
            Title = finding.Title,
            Type = finding.Type,
            Severity = finding.Severity,
            InspectorScore = finding.InspectorScore,
            Cvss = finding.Cvss,
            Epss = finding.Epss,
            ExploitAvailable = finding.ExploitAvailable,
            FixAvailable = finding.FixAvailable,
            FixedVersions = finding.FixedVersions.ToArray(),
            Packages = finding.Packages.Select(p => p.Version is null ? p.Name : $"{p.Name} {p.Version}").Distinct().ToArray(),
            Description = finding.Description,
            Remediation = finding.Remediation,
            SourceUrl = finding.SourceUrl,
            ReferenceUrls = finding.ReferenceUrls,
            FirstSeenAt = finding.FirstObservedAt,
            SlaDueAt = policy.SlaDue(finding),
            Priority = policy.Priority(finding, route.IsProduction),
            Alerting = policy.ShouldAlert(finding),
            Environment = route.Environment,
            SlackChannel = route.SlackChannel,
            TeamsChannel = route.TeamsChannel,
            Region = finding.Region,
        };
        var member = new GroupMember
        {
            FindingArn = finding.FindingArn,
            ResourceType = resource.Type,
            ResourceId = resource.Id,
            Region = resource.Region,
            AccountId = finding.AwsAccountId,
            AccountName = router.Account(finding.AwsAccountId)?.Name is { Length: > 0 } name ? name : null,
            Status = finding.Status,
            Severity = finding.Severity,
            InspectorScore = finding.InspectorScore,
            Epss = finding.Epss,
            ExploitAvailable = finding.ExploitAvailable,
            Tags = resource.Tags,
            FirstObservedAt = finding.FirstObservedAt,
            UpdatedAt = finding.UpdatedAt,
        };
        return new IngestRecord(eventId, GroupIds.For(route.Owner, groupingKey), meta, member);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Duplicate finding {FindingArn} for {Owner} ignored")]
    private partial void LogDuplicate(string findingArn, string owner);

    // Debug: one line per finding is thousands of lines a second in a storm and a fifth of the bot's CPU
    // at full ingest (bench); coi_events_accepted_total counts them, the card and audit show them.
    [LoggerMessage(Level = LogLevel.Debug, Message = "Finding {FindingArn} ({Status}) stored for {Owner} in group {GroupId}: {Outcome}")]
    private partial void LogStored(string findingArn, string owner, string groupId, IngestOutcome outcome, FindingStatus status);
}

internal sealed record IngestSummary(int Accepted, int Duplicates, int Ignored);
