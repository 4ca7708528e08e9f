using System.Globalization;
using System.Text;
using ChatOpsInspector.Access;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.Cards;
using ChatOpsInspector.Routing;
using ChatOpsInspector.Sla;
using ChatOpsInspector.State;
using ChatOpsInspector.Workflow;

namespace ChatOpsInspector.Commands;

/// <summary>What a command answers: plain unescaped text plus cards; each platform renders and escapes it.</summary>
internal sealed record CommandReply
{
    public required string Text { get; init; }
    public IReadOnlyList<AlertCardView> Cards { get; init; } = [];

    /// <summary>Visible to the channel (<c>--share</c>) instead of only to the person who asked.</summary>
    public bool Share { get; init; }
    public bool IsError { get; init; }

    /// <summary>The owners whose alerts the reply shows: sharing it is only allowed where all of them may be seen.</summary>
    public IReadOnlyCollection<string> Owners { get; init; } = [];

    /// <summary>A picture of the answer (the SLA report's chart), for platforms that can show one.</summary>
    public ChartImage? Chart { get; init; }

    public static CommandReply Error(string text) => new() { Text = text, IsError = true };
}

/// <summary>A PNG with its file name, title and alt text for screen readers.</summary>
internal sealed record ChartImage(byte[] Png, string FileName, string Title, string AltText);

/// <summary>Runs <c>/vulns</c> commands for any chat platform.</summary>
internal sealed class CommandHandler(
    AlertQueries queries,
    IAlertStore store,
    FindingRouter router,
    TriageService triage,
    ICoverageSource coverage,
    AccessPolicy access,
    TimeProvider time)
{
    public const int MaxCards = 10;
    public const string Prefix = "/vulns";

    public static string HelpText => $"""
        {Prefix} — Amazon Inspector findings for your applications
        {Prefix} NAME — open alerts of application NAME, worst first
        {Prefix} mine — open alerts assigned to you
        {Prefix} show CVE-…|ID — one alert by group id, or every alert of a CVE
        {Prefix} sla [NAME] — alerts past their SLA or due within 24 h
        {Prefix} stats [NAME] — open alerts by severity, mean time to acknowledge and to fix
        {Prefix} coverage [NAME] — resources Inspector is not scanning
        {Prefix} report [NAME] [YYYY-MM] — SLA compliance for a month (UTC; default this month), with a chart
        {Prefix} ack ID — acknowledge
        {Prefix} assign ID @person — assign
        {Prefix} suppress ID 7d|30d|90d|YYYY-MM-DD reason… — suppress (suppressors only)
        {Prefix} patch ID — request an SSM patch (approvers decide)
        Add --share to answer in the channel instead of only to you.
        """;

    public async Task<CommandReply> HandleAsync(ParsedCommand command, Actor actor, CancellationToken cancellationToken)
    {
        var reply = command.Kind switch
        {
            CommandKind.Help => new CommandReply { Text = HelpText },
            CommandKind.Invalid => CommandReply.Error($"{command.Error} Usage: {Prefix} {command.Usage}. Try {Prefix} help."),
            CommandKind.Owner => await OwnerAsync(command.Owner!, actor, cancellationToken),
            CommandKind.Mine => await MineAsync(actor, cancellationToken),
            CommandKind.Show => await ShowAsync(command.Target!, actor, cancellationToken),
            CommandKind.Sla => await SlaAsync(command.Owner, actor, cancellationToken),
            CommandKind.Stats => await StatsAsync(command.Owner, actor, cancellationToken),
            CommandKind.Coverage => await CoverageAsync(command.Owner, actor, cancellationToken),
            CommandKind.Report => await ReportAsync(command.Owner, command.Month, actor, cancellationToken),
            CommandKind.Acknowledge or CommandKind.Assign or CommandKind.Suppress or CommandKind.RequestPatch =>
                await TriageAsync(command, actor, cancellationToken),
            _ => CommandReply.Error($"Try {Prefix} help."),
        };
        // Errors stay private whatever was asked: nobody wants their typo shared. Alerts are shared only
        // where their owners' alerts may be seen, so --share cannot carry them into another team's channel.
        if (!command.Share || reply.IsError)
        {
            return reply with { Share = false };
        }
        if (reply.Owners.All(o => access.MayShareIn(actor.Channel, o)))
        {
            return reply with { Share = true };
        }
        return reply with
        {
            Share = false,
            Text = reply.Text + "\n(Answered only to you: alerts are shared only in their owner's channels.)",
        };
    }

    private async Task<CommandReply> OwnerAsync(string owner, Actor actor, CancellationToken cancellationToken)
    {
        var known = await VisibleOwnerAsync(owner, actor, cancellationToken);
        if (known is null)
        {
            return NoSuchOwner;
        }
        var open = await queries.OpenGroupsAsync(known, MaxCards, cancellationToken);
        if (open.Total == 0)
        {
            return new CommandReply { Text = $"{known} has no open alerts.", Owners = [known] };
        }
        return List($"{known}: {Count(open.Total, "open alert")}, worst first.", open);
    }

    private async Task<CommandReply> MineAsync(Actor actor, CancellationToken cancellationToken)
    {
        var mine = await queries.AssignedToAsync(actor, MaxCards, cancellationToken);
        return mine.Total == 0
            ? new CommandReply { Text = "Nothing is assigned to you." }
            : List($"{Count(mine.Total, "open alert")} assigned to you.", mine);
    }

    private async Task<CommandReply> ShowAsync(string target, Actor actor, CancellationToken cancellationToken)
    {
        var found = Visible(await queries.FindAsync(target, cancellationToken), actor);
        return found.Count == 0
            ? NoSuchAlert
            : List(found.Count == 1 ? $"{found[0].VulnerabilityId} for {found[0].Owner}:" : $"{target}: {Count(found.Count, "alert")}.", found);
    }

    // /vulns sla and /vulns stats read the counters the write scripts keep, so they answer as fast at a
    // million findings as at ten; digests and reminders, which run in the background, still read groups.
    private async Task<CommandReply> SlaAsync(string? owner, Actor actor, CancellationToken cancellationToken)
    {
        var (owners, error) = await CountScopeAsync(owner, actor, cancellationToken);
        if (error is not null)
        {
            return error;
        }
        var now = time.GetUtcNow();
        var total = OwnerCounts.Sum("all", await store.CountsAsync(owners, now, cancellationToken));
        var scope = owner is null ? "All applications" : owners.First();
        if (total.Overdue + total.DueSoon == 0)
        {
            return new CommandReply { Text = $"{scope}: nothing is past its SLA or due within 24 h.", Owners = owners };
        }
        var ids = await store.DueGroupIdsAsync(owners, now + OwnerCounts.DueSoonWindow, MaxCards, cancellationToken);
        var due = await queries.ReadInOrderAsync(ids, cancellationToken);
        return List(
            $"{scope}: {total.Overdue} past SLA, {total.DueSoon} due within 24 h.",
            new AlertQueries.Page((int)(total.Overdue + total.DueSoon), due));
    }

    private async Task<CommandReply> StatsAsync(string? owner, Actor actor, CancellationToken cancellationToken)
    {
        var (owners, error) = await CountScopeAsync(owner, actor, cancellationToken);
        if (error is not null)
        {
            return error;
        }
        var counts = (await store.CountsAsync(owners, time.GetUtcNow(), cancellationToken)).Where(c => owner is not null || c.Total > 0).ToArray();
        var total = OwnerCounts.Sum(owner ?? "all", counts);
        var scope = owner is null ? "All applications" : owners.First();
        var bySeverity = total.OpenBySeverity.Select(s => $"{s.Value} {AlertCardBuilder.SeverityLabel(s.Key).ToLowerInvariant()}");
        var text = new StringBuilder()
            .Append(scope).Append(": ").Append(Count(total.Open, "open alert"))
            .Append(total.Open == 0 ? "" : " (" + string.Join(", ", bySeverity) + ")")
            .Append(", ").Append(total.InState(GroupState.Suppressed)).Append(" suppressed")
            .Append(", ").Append(total.Fixed).Append(" verified fixed.\n")
            .Append("Mean time to acknowledge: ").Append(Format(total.MeanTimeToAcknowledge)).Append(" (").Append(total.Acknowledged).Append(" acknowledged)\n")
            .Append("Mean time to fix: ").Append(Format(total.MeanTimeToFix)).Append(" (").Append(total.Fixed).Append(" verified fixed)\n")
            .Append("Past SLA: ").Append(total.Overdue).Append(", due within 24 h: ").Append(total.DueSoon)
            .Append(", ever breached: ").Append(total.Breached);
        if (owner is null && counts.Length > 1)
        {
            foreach (var o in counts.OrderByDescending(c => c.Overdue).ThenBy(c => c.Owner, StringComparer.OrdinalIgnoreCase).Take(10))
            {
                text.Append("\n• ").Append(o.Owner).Append(": ").Append(o.Open).Append(" open, ").Append(o.Overdue).Append(" past SLA, MTTF ")
                    .Append(Format(o.MeanTimeToFix));
            }
        }
        return new CommandReply
        {
            Text = text.ToString(),
            Owners = owner is null ? counts.Select(c => c.Owner).ToHashSet(StringComparer.OrdinalIgnoreCase) : owners,
        };
    }

    /// <summary>The owners a figure covers: the one named (if the actor may see it), else every stored owner the actor may see.</summary>
    private async Task<(IReadOnlyCollection<string> Owners, CommandReply? Error)> CountScopeAsync(string? owner, Actor actor, CancellationToken cancellationToken)
    {
        if (owner is null)
        {
            var stored = await store.OwnersAsync(cancellationToken);
            return (stored.Where(o => access.IsOpen || access.MaySee(actor, o)).ToArray(), null);
        }
        var known = await VisibleOwnerAsync(owner, actor, cancellationToken);
        return known is null ? ([], NoSuchOwner) : ([known], null);
    }

    /// <summary>
    /// The compliance report of the groups the actor may see: one owner, or every visible owner. The same
    /// figures as <c>GET /api/reports/sla</c> (<see cref="ComplianceReport"/>).
    /// </summary>
    private async Task<CommandReply> ReportAsync(string? owner, ReportMonth? month, Actor actor, CancellationToken cancellationToken)
    {
        var (groups, error) = await ScopeAsync(owner, actor, cancellationToken);
        if (error is not null)
        {
            return error;
        }
        var now = time.GetUtcNow();
        var period = month ?? ReportMonth.Of(now);
        var report = ComplianceReport.For(groups, period, now, owner);
        var scope = owner is null ? "all applications" : (groups.Count > 0 ? groups[0].Owner : owner);
        var owners = OwnersOf(groups, owner);
        var total = report.Total;
        if (total.Groups == 0)
        {
            return new CommandReply { Text = $"SLA compliance, {scope}, {period} (UTC): no alert was due in that month.", Owners = owners };
        }
        var text = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"SLA compliance, {scope}, {period} (UTC): ")
            .Append(Summary(total))
            .Append("\nAlerts (one per application and vulnerability) due in the month; met = verified fixed by the due time; ")
            .Append("TTA = time to acknowledge, from the card; TTF = time to fix, from Inspector's first sighting; p90 = 90th percentile.");
        foreach (var row in report.Rows.Take(MaxReportRows))
        {
            text.Append(CultureInfo.InvariantCulture, $"\n• {row.Owner} {AlertCardBuilder.SeverityLabel(row.Severity!.Value)}: ").Append(Summary(row));
        }
        if (report.Rows.Count > MaxReportRows)
        {
            text.Append(CultureInfo.InvariantCulture, $"\n…and {report.Rows.Count - MaxReportRows} more rows: GET /api/reports/sla?month={period} has them all.");
        }
        var png = ComplianceChart.Png(report, scope);
        return new CommandReply
        {
            Text = text.ToString(),
            Owners = owners,
            Chart = png is null ? null : new ChartImage(png, $"sla-{period}.png", $"SLA compliance, {scope}, {period}", ComplianceChart.AltText(report, scope)),
        };
    }

    private const int MaxReportRows = 10;

    private static IReadOnlyCollection<string> OwnersOf(IReadOnlyList<AlertGroup> groups, string? owner) =>
        owner is not null && groups.Count == 0 ? [owner] : groups.Select(g => g.Owner).ToHashSet(StringComparer.OrdinalIgnoreCase);

    private static string Summary(ComplianceRow row) => string.Create(CultureInfo.InvariantCulture,
        $"{Count(row.Groups, "alert")} ({Count(row.Findings, "finding")}), SLA met {(row.MetPercent is { } p ? $"{p:0.#} %" : "n/a")} "
        + $"({row.Met} of {row.Met + row.Missed}), {row.OpenPastDue} open past due, {row.Pending} not yet due, {row.Suppressed} suppressed; "
        + $"TTA mean {Format(row.MeanTimeToAcknowledge)}, p90 {Format(row.P90TimeToAcknowledge)}; "
        + $"TTF mean {Format(row.MeanTimeToFix)}, p90 {Format(row.P90TimeToFix)}.");

    private async Task<CommandReply> CoverageAsync(string? owner, Actor actor, CancellationToken cancellationToken)
    {
        if (!coverage.IsConfigured)
        {
            return new CommandReply { Text = "Coverage is not configured: the bot has no Inspector2 access to list coverage yet." };
        }
        // Coverage of every account is the security team's view.
        var scopeOwner = owner is null ? router.DefaultOwner.Owner : await VisibleOwnerAsync(owner, actor, cancellationToken);
        if (scopeOwner is null || !access.MaySee(actor, scopeOwner))
        {
            return NoSuchOwner;
        }
        IReadOnlyList<CoverageGap> gaps;
        try
        {
            gaps = await coverage.GapsAsync(owner, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // AWS refused (no credentials, access denied, throttled): say so instead of failing the command.
            return CommandReply.Error($"Could not read Inspector coverage: {ex.Message}");
        }
        var scope = owner ?? "All accounts";
        if (gaps.Count == 0)
        {
            return new CommandReply { Text = $"{scope}: Inspector scans every resource it knows about.", Owners = [scopeOwner] };
        }
        var text = new StringBuilder($"{scope}: {Count(gaps.Count, "resource")} not scanned.");
        IReadOnlyCollection<string> coverageOwners = [scopeOwner];
        foreach (var gap in gaps.Take(15))
        {
            text.Append('\n').Append("• ").Append(CardWords.ResourceType(gap.ResourceType)).Append(' ').Append(gap.ResourceId)
                .Append(" (").Append(gap.AccountId).Append("): ").Append(CardWords.CoverageReason(gap.Reason));
        }
        if (gaps.Count > 15)
        {
            text.Append("\n+").Append(gaps.Count - 15).Append(" more");
        }
        return new CommandReply { Text = text.ToString(), Owners = coverageOwners };
    }

    private async Task<CommandReply> TriageAsync(ParsedCommand command, Actor actor, CancellationToken cancellationToken)
    {
        var found = Visible(await queries.FindAsync(command.Target!, cancellationToken), actor);
        var open = found.Where(g => g.Workflow.State != GroupState.Resolved).ToArray();
        if (found.Count == 0)
        {
            return NoSuchAlert;
        }
        if (found.Count > 1 && open.Length != 1)
        {
            return CommandReply.Error($"{command.Target} matches {found.Count} alerts ({string.Join(", ", found.Take(10).Select(g => $"{g.Id} of {g.Owner}"))}). Use one id.");
        }
        var group = open.Length == 1 ? open[0] : found[0];
        var now = time.GetUtcNow();
        var request = command.Kind switch
        {
            CommandKind.Acknowledge => new TriageRequest(group.Id, CardAction.Acknowledge, actor),
            CommandKind.Assign => new TriageRequest(group.Id, CardAction.Assign, actor) { Assignee = ToActor(command.Assignee!, actor) },
            CommandKind.Suppress => new TriageRequest(group.Id, CardAction.Suppress, actor)
            {
                Reason = command.Reason,
                ExpiresAt = command.SuppressUntil ?? now + command.SuppressFor!.Value,
            },
            _ => new TriageRequest(group.Id, CardAction.RequestPatch, actor),
        };
        if (request.ExpiresAt is { } until && until <= now)
        {
            return CommandReply.Error($"{AlertCardBuilder.Format(until)} is in the past. Usage: {Prefix} {CommandParser.Usages.Suppress}");
        }
        if (request.Action == CardAction.Assign && request.Assignee is null)
        {
            return CommandReply.Error($"Mention the person with @ and pick them from the list, so I know who they are. Usage: {Prefix} {CommandParser.Usages.Assign}");
        }
        var result = await triage.ExecuteAsync(request, cancellationToken);
        return result.Succeeded
            ? new CommandReply { Text = result.Message }
            : CommandReply.Error(result.Message);
    }

    /// <summary>A named person as an actor on the caller's platform; a bare @name cannot be resolved to an account.</summary>
    private static Actor? ToActor(UserReference person, Actor caller)
    {
        if (person.Id is { } id)
        {
            return new Actor(caller.Platform, id, person.Name ?? id, person.Email, Workspace: caller.Workspace);
        }
        return person.Email is { } email ? new Actor(caller.Platform, email, email, email, Workspace: caller.Workspace) : null;
    }

    private CommandReply List(string heading, IReadOnlyList<AlertGroup> groups) =>
        List(heading, new AlertQueries.Page(groups.Count, groups.Take(MaxCards).ToArray()));

    private CommandReply List(string heading, AlertQueries.Page page)
    {
        var now = time.GetUtcNow();
        var text = page.Total > page.First.Count
            ? $"{heading} Showing the first {page.First.Count}; {page.Total - page.First.Count} more — narrow it with {Prefix} show ID."
            : heading;
        return new CommandReply
        {
            Text = text,
            Cards = page.First.Select(g => triage.Card(g, now)).ToArray(),
            Owners = page.First.Select(g => g.Owner).ToHashSet(StringComparer.OrdinalIgnoreCase),
        };
    }

    private async Task<(IReadOnlyList<AlertGroup> Groups, CommandReply? Error)> ScopeAsync(string? owner, Actor actor, CancellationToken cancellationToken)
    {
        if (owner is null)
        {
            return (Visible(await queries.AllGroupsAsync(cancellationToken), actor), null);
        }
        var known = await VisibleOwnerAsync(owner, actor, cancellationToken);
        return known is null
            ? ([], NoSuchOwner)
            : (await queries.GroupsAsync(known, cancellationToken), null);
    }

    /// <summary>The owner's name if it exists and the actor may see its alerts; null alike for unknown and hidden owners.</summary>
    private async Task<string?> VisibleOwnerAsync(string owner, Actor actor, CancellationToken cancellationToken) =>
        await KnownOwnerAsync(owner, cancellationToken) is { } known && access.MaySee(actor, known) ? known : null;

    private IReadOnlyList<AlertGroup> Visible(IReadOnlyList<AlertGroup> groups, Actor actor) =>
        access.IsOpen ? groups : groups.Where(g => access.MaySee(actor, g.Owner)).ToArray();

    /// <summary>The owner's name as configured or stored, matched case-insensitively.</summary>
    private async Task<string?> KnownOwnerAsync(string owner, CancellationToken cancellationToken) =>
        router.FindOwner(owner)?.Owner
        ?? (await AllOwnersAsync(cancellationToken)).FirstOrDefault(o => string.Equals(o, owner, StringComparison.OrdinalIgnoreCase));

    private async Task<IReadOnlyList<string>> AllOwnersAsync(CancellationToken cancellationToken) =>
        router.Owners.Select(o => o.Owner).Concat(await store.OwnersAsync(cancellationToken))
            .Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.OrdinalIgnoreCase).ToArray();

    /// <summary>
    /// The same answer, byte for byte, for an owner that does not exist and one the asker may not see: it
    /// names no other owner and does not even echo the name asked for.
    /// </summary>
    public static readonly CommandReply NoSuchOwner = CommandReply.Error($"Application not found or not visible to you. Usage: {Prefix} NAME");

    /// <summary>The same answer for an alert id or CVE that matches nothing and one that matches only alerts the asker may not see.</summary>
    public static readonly CommandReply NoSuchAlert = CommandReply.Error(TriageService.NotVisible + " Use the id shown on a card, or a CVE id.");

    private static string Format(TimeSpan? span) => span is { } s ? AlertCardBuilder.FormatDuration(s) : "n/a";

    private static string Count(long n, string noun) => n.ToString(CultureInfo.InvariantCulture) + " " + noun + (n == 1 ? "" : "s");
}
