using System.Globalization;
using System.Text;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.Cards;
using ChatOpsInspector.Findings;
using ChatOpsInspector.Routing;
using ChatOpsInspector.State;
using Microsoft.Extensions.Options;

namespace ChatOpsInspector.Sla;

/// <summary>
/// Once a day per owner, at <see cref="SlaOptions.DigestTimeUtc"/>: one message with what breached
/// SLA and the open HIGH/MEDIUM groups that never alerted. Each day is schedule item
/// <c>digest:{owner}:{yyyy-MM-dd}</c>, so it is sent once whatever the number of replicas.
/// </summary>
internal sealed partial class DigestService(
    IAlertStore store,
    AlertQueries queries,
    IWorkQueue queue,
    IKeyValueStore values,
    ChatOutbox outbox,
    FindingRouter router,
    TimeProvider time,
    IOptions<SlaOptions> sla,
    IOptions<SlaSchedulerOptions> options,
    ILogger<DigestService> logger)
{
    /// <summary>Lines per section; the rest is counted, and <c>/vulns sla</c> lists everything.</summary>
    public const int MaxLines = 20;

    private const string Prefix = "digest:";

    public static string ItemId(string owner, DateOnly day) => Prefix + owner + ":" + day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static bool TryParse(string itemId, out string owner, out DateOnly day)
    {
        owner = "";
        day = default;
        // Owners are one word but may contain ':'; the date is always the last 10 characters.
        if (!itemId.StartsWith(Prefix, StringComparison.Ordinal) || itemId.Length < Prefix.Length + 12 || itemId[^11] != ':'
            || !DateOnly.TryParseExact(itemId[^10..], "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out day))
        {
            return false;
        }
        owner = itemId[Prefix.Length..^11];
        return true;
    }

    /// <summary>The digest time at or after <paramref name="now"/>'s day that has not passed yet.</summary>
    public static DateTimeOffset NextDigestAt(DateTimeOffset now, TimeSpan digestTimeUtc)
    {
        var today = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero) + digestTimeUtc;
        return now < today ? today : today.AddDays(1);
    }

    /// <summary>Schedules each owner's next digest into <paramref name="scheduleQueue"/> unless it is already there.</summary>
    public async Task<int> PlanAsync(string scheduleQueue, CancellationToken cancellationToken)
    {
        var at = NextDigestAt(time.GetUtcNow(), sla.Value.DigestTimeUtc);
        var day = DateOnly.FromDateTime(at.UtcDateTime);
        var planned = 0;
        foreach (var owner in await OwnersAsync(cancellationToken))
        {
            var id = ItemId(owner, day);
            var marker = "sla:planned:" + id;
            if (await values.GetAsync(marker, cancellationToken) is not null)
            {
                continue;
            }
            await queue.EnqueueAsync(scheduleQueue, id, "", at, cancellationToken);
            await values.SetAsync(marker, "1", at - time.GetUtcNow() + TimeSpan.FromDays(2), cancellationToken);
            planned++;
        }
        return planned;
    }

    /// <summary>Builds and queues the owner's digest for <paramref name="day"/>, once.</summary>
    public async Task SendAsync(WorkItem item, string owner, DateOnly day, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (now - item.DueAt > options.Value.DigestMaxDelay)
        {
            LogTooLate(owner, day);
            return;
        }
        var firedKey = "sla:fired:" + item.Id;
        if (await values.GetAsync(firedKey, cancellationToken) is not null)
        {
            return;
        }
        var groups = await queries.GroupsAsync(owner, cancellationToken);
        var digest = Build(owner, day, groups, now);
        if (digest is null)
        {
            LogNothingToReport(owner, day);
        }
        else
        {
            var route = router.FindOwner(owner);
            var channels = Channels(route, groups);
            foreach (var (platform, channel) in channels)
            {
                await outbox.EnqueueChannelMessageAsync(platform, channel, new ChatNote(digest.Text), cancellationToken, dedupKey: item.Id + ":" + platform);
            }
            if (channels.Count == 0)
            {
                LogNoChannel(owner);
            }
            else
            {
                LogSent(owner, day, digest.Breached.Count, digest.BelowThreshold.Count);
            }
        }
        await values.SetAsync(firedKey, now.ToString("O", CultureInfo.InvariantCulture), TimeSpan.FromDays(3), cancellationToken);
    }

    /// <summary>
    /// The digest of one owner's groups, or null when there is nothing to report. Breached groups are
    /// listed once, under "SLA breached", even when they are also below the alert threshold.
    /// </summary>
    public static Digest? Build(string owner, DateOnly day, IEnumerable<AlertGroup> groups, DateTimeOffset now)
    {
        var open = groups.Where(g => g.Workflow.IsOpen && string.Equals(g.Owner, owner, StringComparison.OrdinalIgnoreCase)).ToArray();
        var breached = open.Where(g => g.Workflow.SlaBreached || g.Meta.SlaDueAt <= now)
            .OrderBy(g => g.Meta.SlaDueAt).ThenByDescending(g => g.Severity).ToArray();
        var below = open.Except(breached)
            .Where(g => !g.Meta.Alerting && g.Severity is Severity.High or Severity.Medium)
            .OrderByDescending(g => g.Severity).ThenBy(g => g.Meta.SlaDueAt).ToArray();
        if (breached.Length == 0 && below.Length == 0)
        {
            return null;
        }
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"Daily vulnerability digest for {owner}, {day:yyyy-MM-dd}");
        Section(text, $"SLA breached ({breached.Length})", breached, g =>
            $"{Line(g)}, due {AlertCardBuilder.Format(g.Meta.SlaDueAt)} ({AlertCardBuilder.FormatDuration(now - g.Meta.SlaDueAt)} overdue)", owner);
        Section(text, $"Open below the alert threshold, HIGH/MEDIUM ({below.Length})", below, g =>
            $"{Line(g)}, due {AlertCardBuilder.Format(g.Meta.SlaDueAt)} (in {AlertCardBuilder.FormatDuration(g.Meta.SlaDueAt - now)})", owner);
        return new Digest(owner, day, breached, below, text.ToString());
    }

    private static string Line(AlertGroup g) =>
        $"• {g.VulnerabilityId} {g.Severity.ToString().ToUpperInvariant()} [{g.Id}] {g.OpenCount} open resource(s), {g.Workflow.State.ToString().ToLowerInvariant()}";

    private static void Section(StringBuilder text, string title, AlertGroup[] groups, Func<AlertGroup, string> line, string owner)
    {
        if (groups.Length == 0)
        {
            return;
        }
        text.Append("\n\n").Append(title).Append(':');
        foreach (var g in groups.Take(MaxLines))
        {
            text.Append('\n').Append(line(g));
        }
        if (groups.Length > MaxLines)
        {
            text.Append(CultureInfo.InvariantCulture, $"\n…and {groups.Length - MaxLines} more: /vulns sla {owner}");
        }
    }

    /// <summary>The owner's configured channels, else the ones its groups were routed to when stored.</summary>
    private static List<(string Platform, string Channel)> Channels(OwnerRoute? route, IReadOnlyList<AlertGroup> groups)
    {
        var slack = route?.SlackChannel ?? groups.Select(g => g.Meta.SlackChannel).FirstOrDefault(c => !string.IsNullOrEmpty(c));
        var teams = route?.TeamsChannel ?? groups.Select(g => g.Meta.TeamsChannel).FirstOrDefault(c => !string.IsNullOrEmpty(c));
        var channels = new List<(string, string)>();
        if (slack is not null)
        {
            channels.Add(("slack", slack));
        }
        if (teams is not null)
        {
            channels.Add(("teams", teams));
        }
        return channels;
    }

    private async Task<IReadOnlyList<string>> OwnersAsync(CancellationToken cancellationToken)
    {
        var owners = new HashSet<string>(await store.OwnersAsync(cancellationToken), StringComparer.OrdinalIgnoreCase);
        return owners.Order(StringComparer.Ordinal).ToArray();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Digest for {Owner} on {Day} queued: {Breached} breached, {Below} below the alert threshold")]
    private partial void LogSent(string owner, DateOnly day, int breached, int below);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Digest for {Owner} on {Day}: nothing to report")]
    private partial void LogNothingToReport(string owner, DateOnly day);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Digest for {Owner} has no Slack or Teams channel to go to")]
    private partial void LogNoChannel(string owner);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Digest for {Owner} on {Day} dropped: the service was down at digest time")]
    private partial void LogTooLate(string owner, DateOnly day);
}

/// <summary>One owner's daily digest: what it lists and the message text.</summary>
internal sealed record Digest(string Owner, DateOnly Day, IReadOnlyList<AlertGroup> Breached, IReadOnlyList<AlertGroup> BelowThreshold, string Text);
