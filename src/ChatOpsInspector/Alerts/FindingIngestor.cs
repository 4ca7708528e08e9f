using System.Diagnostics;
using ChatOpsInspector.Findings;
using ChatOpsInspector.Findings.SecurityHub;
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
    /// <summary>A finding can name hundreds of packages; the card shows a few and counts the rest.</summary>
    private const int MaxPackagesKept = 20;

    public async Task<IngestSummary> IngestAsync(IReadOnlyList<InspectorEvent> events, CancellationToken cancellationToken)
    {
        // Routing, grouping and SLA arithmetic run for the whole batch before the first write: a finding
        // they cannot handle fails the request with nothing of the batch stored. What can still fail
        // after that is the store itself (503); each write is idempotent, so the sender's retry of the
        // whole batch stores the rest and counts the ones already written as duplicates.
        var prepared = new List<(Finding Finding, IngestRecord? Record)>(events.Count);
        var ignored = 0;
        foreach (var evt in events)
        {
            AppMetrics.EventsReceived.WithLabels(evt.Kind).Inc();
            if (evt.Finding is not { } finding)
            {
                ignored++;
                AppMetrics.EventsIgnored.WithLabels(evt.IgnoredReason).Inc();
                continue;
            }
            prepared.Add((finding, await RecordAsync(finding, evt.Id, cancellationToken)));
        }
        int accepted = 0, duplicates = 0;
        foreach (var (finding, record) in prepared)
        {
            if (await StoreAsync(finding, record, cancellationToken) == IngestOutcome.Duplicate)
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

    public async Task<IngestOutcome> IngestAsync(Finding finding, string? eventId, CancellationToken cancellationToken) =>
        await StoreAsync(finding, await RecordAsync(finding, eventId, cancellationToken), cancellationToken);

    /// <summary>What to store for a finding; null when a Security Hub copy brings nothing new.</summary>
    private async Task<IngestRecord?> RecordAsync(Finding finding, string? eventId, CancellationToken cancellationToken) =>
        finding.Origin != FindingOrigin.Inspector && SecurityHubFindings.IsInspectorArn(finding.FindingArn)
            ? await SecurityHubCopyAsync(finding, eventId, cancellationToken)
            : ToRecord(finding, router.Route(finding), eventId);

    private async Task<IngestOutcome> StoreAsync(Finding finding, IngestRecord? record, CancellationToken cancellationToken)
    {
        var outcome = IngestOutcome.Duplicate;
        if (record is not null)
        {
            var started = Stopwatch.GetTimestamp();
            outcome = await store.IngestAsync(record, cancellationToken);
            AppMetrics.StoreLatency.WithLabels("ingest").Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
        if (outcome == IngestOutcome.Duplicate)
        {
            AppMetrics.EventsDuplicate.Inc();
            LogDuplicate(finding.FindingArn, record?.Meta.Owner ?? "");
        }
        else
        {
            AppMetrics.EventsAccepted.Inc();
            LogStored(finding.FindingArn, record!.Meta.Owner, record.GroupId, outcome, finding.Status);
        }
        return outcome;
    }

    /// <summary>
    /// Security Hub's copy of an Inspector finding is the same finding (same ARN, so the same group and
    /// card), but Inspector's own event carries more (score details, exploitability, network paths), so
    /// the copy never replaces it: once Inspector's event is stored, a copy only brings a newer status,
    /// onto Inspector's detail. Copies are ordered a millisecond before their stated time, so that
    /// Inspector's event with the same <c>updatedAt</c> still replaces a copy that came first — with no
    /// extra read on Inspector's own path. Null: nothing to store.
    /// </summary>
    private async Task<IngestRecord?> SecurityHubCopyAsync(Finding copy, string? eventId, CancellationToken cancellationToken)
    {
        var orderedAt = copy.UpdatedAt.AddMilliseconds(-1);
        var groupId = await store.GroupOfFindingAsync(copy.FindingArn, cancellationToken);
        var group = groupId is null ? null : await store.GetGroupAsync(groupId, cancellationToken);
        var native = group?.Members.FirstOrDefault(m => m.FindingArn == copy.FindingArn && m.Origin is null);
        if (group is null || native is null)
        {
            var record = ToRecord(copy, router.Route(copy), eventId);
            return record with { Member = record.Member with { UpdatedAt = orderedAt } };
        }
        if (orderedAt <= native.UpdatedAt)
        {
            return null;
        }
        return new IngestRecord(eventId, group.Id, group.Meta, native with { Status = copy.Status, UpdatedAt = orderedAt });
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
            VulnerablePackages = finding.Packages.Take(MaxPackagesKept).ToArray(),
            Network = finding.Network,
            Code = finding.Code,
            FirstSeenAt = finding.FirstObservedAt,
            SlaDueAt = policy.SlaDue(finding),
            Priority = policy.Priority(finding, route.IsProduction),
            Alerting = policy.ShouldAlert(finding),
            Environment = route.Environment,
            SlackChannel = route.SlackChannel,
            TeamsChannel = route.TeamsChannel,
            Region = finding.Region,
            NetworkProtocol = finding.Network?.Protocol,
            PortBegin = finding.Network?.PortBegin,
            PortEnd = finding.Network?.PortEnd,
            CodeDetectorName = finding.Code?.DetectorName,
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
            EcrRepository = resource.EcrRepository,
            ImageTags = resource.ImageTags.Take(5).ToArray(),
            ImageDigest = resource.ImageDigest,
            LambdaFunction = resource.LambdaFunction,
            LambdaRuntime = resource.LambdaRuntime,
            FirstObservedAt = finding.FirstObservedAt,
            UpdatedAt = finding.UpdatedAt,
            Origin = finding.Origin == FindingOrigin.Inspector ? null : finding.Origin,
            ProductArn = finding.ProductArn,
            ProductFindingId = finding.ProductFindingId,
            CodeFilePath = finding.Code?.FilePath,
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
