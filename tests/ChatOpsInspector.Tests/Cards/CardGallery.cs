using System.Text.Json.Nodes;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.Cards;
using ChatOpsInspector.Findings;
using ChatOpsInspector.Routing;
using ChatOpsInspector.Tests.Infrastructure;
using ChatOpsInspector.Workflow;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace ChatOpsInspector.Tests.Cards;

/// <summary>
/// Every card the bot draws: each finding type of Inspector's published samples (Fixtures/inspector),
/// and each workflow state, as the ingest path stores them (<see cref="FindingIngestor.ToRecord"/>).
/// Renderer tests check them all; with CARD_DOCS_DIR set they become the README's gallery.
/// </summary>
internal static class CardGallery
{
    private static readonly Actor Ana = new("teams", "b15a9416-0ad3-4172-9210-7beb711d3f70", "Ana Bowman");
    private static readonly Actor Dev = new("teams", "c15a9416-0ad3-4172-9210-7beb711d3f71", "Dee Developer");

    public sealed record Entry(string Name, string Title, AlertGroup Group, DateTimeOffset Now)
    {
        public AlertCardView View => AlertCardBuilder.Build(Group, Now);
    }

    public static IReadOnlyList<Entry> All()
    {
        var ec2 = Sample("finding-ec2-package-vulnerability.json", out var ec2Seen);
        var entries = new List<Entry>
        {
            new("ec2-package", "EC2 package vulnerability, new", ec2, ec2Seen.AddHours(2)),
            Of("ecr-package", "ECR image package vulnerability, new", "finding-ecr-package-vulnerability.json"),
            Of("lambda-package", "Lambda package vulnerability, new", "finding-lambda-package-vulnerability.json"),
            Of("lambda-code", "Lambda code vulnerability, new", "finding-lambda-code-vulnerability.json"),
            Of("ec2-network", "EC2 network reachability, new", "finding-ec2-network-reachability.json"),
            new("acknowledged", "Acknowledged (in progress)", With(ec2, new WorkflowState
            {
                State = GroupState.Acknowledged, AcknowledgedBy = Ana, AcknowledgedAt = ec2Seen.AddHours(1),
            }.Record(new HistoryEntry(ec2Seen.AddHours(1), "Acknowledged", Ana))), ec2Seen.AddHours(2)),
            new("patch-requested", "Patch requested, awaiting approval", With(ec2, new WorkflowState
            {
                State = GroupState.PatchRequested,
                Patch = new PatchRequest
                {
                    Id = "p-1", RequestedBy = Dev, RequestedAt = ec2Seen.AddHours(1), ExpiresAt = ec2Seen.AddHours(2),
                    InstanceIds = ["i-12345678901234567"], PreviousState = GroupState.Acknowledged,
                },
            }.Record(new HistoryEntry(ec2Seen.AddHours(1), "Patch requested", Dev))), ec2Seen.AddHours(1.5)),
            new("patching", "Patching (in progress)", With(ec2, new WorkflowState
            {
                State = GroupState.Patching,
                Patch = new PatchRequest
                {
                    Id = "p-1", RequestedBy = Dev, RequestedAt = ec2Seen.AddHours(1), ExpiresAt = ec2Seen.AddHours(2),
                    InstanceIds = ["i-12345678901234567"], PreviousState = GroupState.Acknowledged, DecidedBy = Ana, Approved = true,
                    Progress = new PatchProgress(1, 0, 0, 1),
                },
            }.Record(new HistoryEntry(ec2Seen.AddHours(1.2), "Patch approved", Ana))), ec2Seen.AddHours(1.5)),
            new("breached", "SLA breached", With(ec2, new WorkflowState { SlaBreached = true }), ec2Seen + TimeSpan.FromHours(720 + 52)),
            new("resolved", "Resolved (verified fixed)", With(ec2, new WorkflowState
            {
                State = GroupState.Resolved, ResolvedAt = ec2Seen.AddHours(3), TimeToFix = TimeSpan.FromHours(3),
            }.Record(new HistoryEntry(ec2Seen.AddHours(3), "Verified fixed", Actor.System, "1 finding(s) closed by Inspector; time to fix 3 h 0 min"))),
                ec2Seen.AddHours(4)),
            new("suppressed", "Suppressed (risk accepted)", With(ec2, new WorkflowState
            {
                State = GroupState.Suppressed,
                Suppression = new Suppression("Not reachable: snapd is unused on this image", ec2Seen.AddDays(30), Ana, ec2Seen.AddHours(1), null, GroupState.New),
            }.Record(new HistoryEntry(ec2Seen.AddHours(1), "Suppressed", Ana, "Not reachable: snapd is unused on this image"))), ec2Seen.AddHours(2)),
        };
        return entries;
    }

    private static Entry Of(string name, string title, string file)
    {
        var group = Sample(file, out var seen);
        return new Entry(name, title, group, seen.AddHours(2));
    }

    private static AlertGroup With(AlertGroup group, WorkflowState workflow) => group with { Workflow = workflow };

    /// <summary>A sample as the bot stores it: routed to the security team, account named under Accounts.</summary>
    public static AlertGroup Sample(string file, out DateTimeOffset firstSeen)
    {
        // The user guide's EC2 package sample is CLOSED; the gallery shows it open, then in each state.
        var body = Fixtures.Read("inspector", file)
            .Replace("{{FINDING_ID}}", "0123456789abcdef0123456789abcdef", StringComparison.Ordinal)
            .Replace("\"status\": \"CLOSED\"", "\"status\": \"ACTIVE\"", StringComparison.Ordinal);
        var (events, errors) = InspectorEventParser.Parse(System.Text.Encoding.UTF8.GetBytes(body), DateTimeOffset.UtcNow);
        Assert.Empty(errors);
        var finding = events.Single().Finding!;
        var router = new FindingRouter(
            Options.Create(new RoutingOptions { Default = new RouteTarget { Owner = "security", Environment = "prod" } }),
            Options.Create(new Dictionary<string, AccountInfo> { ["123456789012"] = new() { Name = "sandbox" } }));
        var policy = new AlertPolicy(Options.Create(new AlertingOptions { MinSeverity = Severity.Low }), Options.Create(new SlaOptions()));
        var record = new FindingIngestor(null!, policy, router, NullLogger<FindingIngestor>.Instance).ToRecord(finding, router.Route(finding), null);
        firstSeen = finding.FirstObservedAt;
        return new AlertGroup { Id = record.GroupId, Meta = record.Meta, Members = [record.Member], Workflow = new WorkflowState(), Version = 1 };
    }

    /// <summary>A Slack message as Block Kit Builder takes it.</summary>
    public static JsonObject SlackMessage(Entry entry) => new() { ["blocks"] = global::ChatOpsInspector.Slack.SlackCards.Blocks(entry.View, entry.Now) };
}
