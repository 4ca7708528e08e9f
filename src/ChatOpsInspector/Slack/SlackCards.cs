using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using ChatOpsInspector.Cards;
using ChatOpsInspector.Findings;

namespace ChatOpsInspector.Slack;

/// <summary>
/// Renders <see cref="AlertCardView"/> as Block Kit. Pure: the same view and clock give the same blocks,
/// every string from a finding is escaped, and every block stays within Slack's limits whatever the input.
/// </summary>
internal static class SlackCards
{
    public const int MaxResourceLines = 10;
    public const int MaxStateLines = 5;

    /// <summary>Compact cards per message in list replies: 2 blocks each keeps a reply under 50 blocks.</summary>
    public const int MaxCompactCards = 20;

    public static JsonArray Blocks(AlertCardView view, DateTimeOffset now)
    {
        var blocks = new JsonArray
        {
            Header($"{SeverityEmoji(view.Severity)} {AlertCardBuilder.SeverityLabel(view.Severity)} {view.VulnerabilityId}: {TitleWithoutId(view)}"),
            Section(Summary(view)),
            Fields(FieldsOf(view, now)),
        };
        var about = About(view);
        if (about.Length > 0)
        {
            blocks.Add(Section(about));
        }
        blocks.Add(Section(ResourceList(view)));
        var links = Links(view);
        if (links.Length > 0)
        {
            blocks.Add(Context(links));
        }
        if (view.StateLines.Count > 0)
        {
            blocks.Add(Context(string.Join('\n', view.StateLines.TakeLast(MaxStateLines).Select(l => SlackText.EscapeTruncate(l, 400)))));
        }
        if (!view.Actions.Contains(CardAction.RequestPatch) && !string.IsNullOrWhiteSpace(view.PatchUnavailableReason) && view.State != Workflow.GroupState.Resolved)
        {
            blocks.Add(Context(":wrench: " + SlackText.EscapeTruncate(view.PatchUnavailableReason, 1000)));
        }
        if (Actions(view) is { } actions)
        {
            blocks.Add(actions);
        }
        return blocks;
    }

    /// <summary>Two blocks per group for list replies (<c>/vulns NAME</c>): summary line and its buttons.</summary>
    public static IEnumerable<JsonObject> CompactBlocks(AlertCardView view, DateTimeOffset now)
    {
        var text = new StringBuilder()
            .Append(SeverityEmoji(view.Severity)).Append(" *").Append(AlertCardBuilder.SeverityLabel(view.Severity)).Append("* ")
            .Append('`').Append(SlackText.EscapeTruncate(view.VulnerabilityId, 100)).Append("` ")
            .Append(SlackText.EscapeTruncate(TitleWithoutId(view), 300))
            .Append('\n')
            .Append("score ").Append(Number(view.InspectorScore))
            .Append(" · EPSS ").Append(Percent(view.Epss))
            .Append(" · ").Append(view.OpenCount.ToString(CultureInfo.InvariantCulture)).Append(" open")
            .Append(" · SLA ").Append(Sla(view, now))
            .Append('\n')
            .Append(SlackText.EscapeTruncate(view.StateLabel, 300))
            .Append(" · id `").Append(SlackText.EscapeTruncate(view.GroupId, 64)).Append('`');
        yield return Section(text.ToString());
        if (Actions(view) is { } actions)
        {
            yield return actions;
        }
    }

    /// <summary>Inspector titles usually repeat the CVE id ("CVE-2024-29069 - snapd"); the card shows it once.</summary>
    private static string TitleWithoutId(AlertCardView view)
    {
        if (!view.Title.StartsWith(view.VulnerabilityId, StringComparison.OrdinalIgnoreCase))
        {
            return view.Title;
        }
        var rest = view.Title[view.VulnerabilityId.Length..].TrimStart(' ', '-', ':', '–', '—');
        return rest.Length == 0 ? view.Title : rest;
    }

    public static string FallbackText(AlertCardView view) => SlackText.EscapeTruncate(view.FallbackText, SlackLimits.MessageText);

    public static string SeverityEmoji(Severity severity) => severity switch
    {
        Severity.Critical => ":red_circle:",
        Severity.High => ":large_orange_circle:",
        Severity.Medium => ":large_yellow_circle:",
        Severity.Low => ":large_blue_circle:",
        _ => ":white_circle:",
    };

    /// <summary>Button action id: "{action}:{group}", so one message can carry buttons for several groups.</summary>
    public static string ActionId(CardAction action, string groupId) =>
        SlackText.Truncate($"{action.Id()}:{groupId}", SlackLimits.ActionId);

    /// <summary>Parses a card button back into its action, group and (for approvals) patch request.</summary>
    public static (CardAction Action, string GroupId, string? PatchRequestId)? ParseButton(string? actionId, string? value)
    {
        if (string.IsNullOrEmpty(actionId))
        {
            return null;
        }
        var colon = actionId.IndexOf(':', StringComparison.Ordinal);
        var action = CardActionIds.Parse(colon < 0 ? actionId : actionId[..colon]);
        if (action is null)
        {
            return null;
        }
        var groupPart = value ?? (colon < 0 ? "" : actionId[(colon + 1)..]);
        var separator = groupPart.IndexOf(':', StringComparison.Ordinal);
        var groupId = separator < 0 ? groupPart : groupPart[..separator];
        var patch = separator < 0 ? null : groupPart[(separator + 1)..];
        return string.IsNullOrWhiteSpace(groupId) ? null : (action.Value, groupId, string.IsNullOrEmpty(patch) ? null : patch);
    }

    private static string Summary(AlertCardView view)
    {
        var text = new StringBuilder()
            .Append('*').Append(SlackText.EscapeTruncate(view.PriorityLabel, 20)).Append("* · ")
            .Append(SlackText.EscapeTruncate(view.StateLabel, 500))
            .Append(" · owner *").Append(SlackText.EscapeTruncate(view.Owner, 200)).Append('*');
        if (!string.IsNullOrEmpty(view.Environment))
        {
            text.Append(" · ").Append(SlackText.EscapeTruncate(view.Environment, 100));
        }
        text.Append('\n')
            .Append(view.OpenCount.ToString(CultureInfo.InvariantCulture)).Append(" open, ")
            .Append(view.FixedCount.ToString(CultureInfo.InvariantCulture)).Append(" fixed, ")
            .Append(view.ResourceCount.ToString(CultureInfo.InvariantCulture)).Append(" resource(s) · id `")
            .Append(SlackText.EscapeTruncate(view.GroupId, 64)).Append('`');
        if (!string.IsNullOrEmpty(view.PatchProgress))
        {
            text.Append('\n').Append(Capitalized(view.RunNoun)).Append(": ").Append(SlackText.EscapeTruncate(view.PatchProgress, 300));
        }
        if (view.ApprovalSummary is { Length: > 0 } approving)
        {
            text.Append("\n*Approving runs:* ").Append(SlackText.EscapeTruncate(approving, 1500));
        }
        return text.ToString();
    }

    private static List<string> FieldsOf(AlertCardView view, DateTimeOffset now)
    {
        var fix = view.FixAvailable.Equals("NO", StringComparison.OrdinalIgnoreCase) || view.FixedVersions.Count == 0
            ? Esc(view.FixAvailable, 20)
            : $"{Esc(view.FixAvailable, 20)}: {Esc(string.Join(", ", view.FixedVersions.Take(5)), 600)}";
        var cvss = view.CvssVector is null
            ? "n/a"
            : $"{Number(view.CvssBaseScore)} `{Esc(view.CvssVector, 300)}`";
        return
        [
            $"*Inspector score*\n{Number(view.InspectorScore)}",
            $"*CVSS*\n{cvss}",
            $"*EPSS*\n{Percent(view.Epss)}",
            $"*Exploit available*\n{(view.ExploitAvailable ? ":warning: Yes" : "No")}",
            $"*Fix available*\n{fix}",
            $"*Owner*\n{Esc(view.Owner, 300)}",
            $"*SLA due*\n{Sla(view, now)} ({AlertCardBuilder.Format(view.SlaDueAt)})",
            $"*First seen*\n{AlertCardBuilder.Format(view.FirstSeenAt)}",
            $"*Packages*\n{(view.Packages.Count == 0 ? "n/a" : Esc(string.Join(", ", view.Packages.Take(5)) + (view.Packages.Count > 5 ? $" +{view.Packages.Count - 5}" : ""), 600))}",
        ];
    }

    private static string About(AlertCardView view)
    {
        var text = new StringBuilder();
        if (!string.IsNullOrWhiteSpace(view.Description))
        {
            text.Append(SlackText.EscapeTruncate(view.Description, 2000));
        }
        if (!string.IsNullOrWhiteSpace(view.Remediation))
        {
            text.Append(text.Length > 0 ? "\n" : "").Append("*Remediation:* ").Append(SlackText.EscapeTruncate(view.Remediation, 900));
        }
        return text.ToString();
    }

    private static string ResourceList(AlertCardView view)
    {
        var text = new StringBuilder("*Affected resources*");
        foreach (var r in view.Resources.Take(MaxResourceLines))
        {
            var tags = r.Tags.Count == 0 ? "" : " · " + string.Join(", ", r.Tags.Take(5).Select(t => $"{Esc(t.Key, 40)}={Esc(t.Value, 60)}"));
            text.Append("\n• `").Append(Esc(r.Type, 40)).Append("` ").Append(Esc(r.Id, 120))
                .Append(" · ").Append(Esc(r.Region, 30)).Append(" · ").Append(Esc(r.Account, 30))
                .Append(" · ").Append(Esc(r.Status, 20)).Append(tags);
        }
        var more = view.MoreResources + Math.Max(0, view.Resources.Count - MaxResourceLines);
        if (more > 0)
        {
            text.Append("\n+").Append(more.ToString(CultureInfo.InvariantCulture)).Append(" more");
        }
        // Ten lines of at most ~280 chars each stay below the section limit; the cut is a last resort.
        return Fit(text.ToString(), SlackLimits.SectionText);
    }

    private static string Links(AlertCardView view)
    {
        var links = new[]
        {
            SlackText.Link(view.InspectorConsoleUrl, "Inspector console"),
            SlackText.Link(view.VulnerabilityUrl, SlackText.Truncate(view.VulnerabilityId, 100)),
        }.Where(l => l is not null);
        return Fit(string.Join(" · ", links), SlackLimits.SectionText);
    }

    private static JsonObject? Actions(AlertCardView view)
    {
        var buttons = new JsonArray();
        foreach (var action in view.Actions.Distinct().Take(SlackLimits.ActionElements))
        {
            var value = action is CardAction.ApprovePatch or CardAction.RejectPatch && view.PatchRequestId is { } patch
                ? $"{view.GroupId}:{patch}"
                : view.GroupId;
            var button = new JsonObject
            {
                ["type"] = "button",
                ["action_id"] = ActionId(action, view.GroupId),
                ["text"] = Plain(Label(action, view), SlackLimits.ButtonText),
                ["value"] = SlackText.Truncate(value, SlackLimits.ButtonValue),
            };
            switch (action)
            {
                case CardAction.Acknowledge or CardAction.ApprovePatch:
                    button["style"] = "primary";
                    break;
                case CardAction.RejectPatch or CardAction.RequestIsolation or CardAction.Release:
                    button["style"] = "danger";
                    break;
            }
            if (Confirmation(view, action) is { } confirm)
            {
                button["confirm"] = confirm;
            }
            buttons.Add(button);
        }
        return buttons.Count == 0 ? null : new JsonObject { ["type"] = "actions", ["elements"] = buttons };
    }

    /// <summary>
    /// Block Kit confirmation dialog object (api.slack.com/reference/block-kit/composition-objects#confirm):
    /// title ≤ 100, text ≤ 300, confirm and deny ≤ 30 characters, plain text. One tap on a phone must
    /// not start a reboot or a containment.
    /// </summary>
    public static JsonObject? Confirmation(AlertCardView view, CardAction action)
    {
        var (title, text, yes) = action switch
        {
            CardAction.ApprovePatch when view.RunNoun == "isolation" =>
                ("Approve isolation?", "Cuts these instances off the network. " + view.ApprovalSummary, "Isolate"),
            CardAction.ApprovePatch => ("Approve patch?", "Patches now. " + view.ApprovalSummary, "Patch"),
            CardAction.RequestIsolation => ("Request isolation?",
                $"Asks an approver to cut the {view.OpenCount} open instance(s) of {view.VulnerabilityId} off the network.", "Request isolation"),
            CardAction.Release => ("Release isolation?", "Restores the network access of the isolated instances.", "Release"),
            _ => default,
        };
        if (title is null)
        {
            return null;
        }
        return new JsonObject
        {
            ["title"] = Plain(title, 100),
            ["text"] = Plain(text, 300),
            ["confirm"] = Plain(yes, 30),
            ["deny"] = Plain("Cancel", 30),
            ["style"] = action == CardAction.ApprovePatch ? "primary" : "danger",
        };
    }

    private static string Capitalized(string word) => word.Length == 0 ? word : string.Concat(word[..1].ToUpperInvariant(), word.AsSpan(1));

    public static string Label(CardAction action, AlertCardView view) => (action, view.RunNoun) switch
    {
        (CardAction.ApprovePatch, "isolation") => "Approve isolation",
        (CardAction.RejectPatch, "isolation") => "Reject isolation",
        _ => Label(action),
    };

    public static string Label(CardAction action) => action switch
    {
        CardAction.Release => "Release isolation",
        CardAction.Acknowledge => "Acknowledge",
        CardAction.Assign => "Assign…",
        CardAction.Suppress => "Suppress…",
        CardAction.Unsuppress => "Unsuppress",
        CardAction.RequestPatch => "Request patch",
        CardAction.ApprovePatch => "Approve patch",
        CardAction.RejectPatch => "Reject patch",
        CardAction.RequestIsolation => "Request isolation",
        _ => action.ToString(),
    };

    private static string Sla(AlertCardView view, DateTimeOffset now) =>
        view.SlaBreached ? $":rotating_light: overdue {AlertCardBuilder.Relative(view.SlaDueAt, now)}" : AlertCardBuilder.Relative(view.SlaDueAt, now);

    private static string Number(double? value) => value is { } v ? v.ToString("0.0", CultureInfo.InvariantCulture) : "n/a";

    private static string Percent(double? probability) =>
        probability is { } p ? (p * 100).ToString("0.##", CultureInfo.InvariantCulture) + "%" : "n/a";

    private static string Esc(string? text, int max) => SlackText.EscapeTruncate(text, max);

    /// <summary>Cuts already-escaped text at a line break or before an entity, so it never ends mid-entity.</summary>
    private static string Fit(string escaped, int max)
    {
        if (escaped.Length <= max)
        {
            return escaped;
        }
        var cut = escaped.LastIndexOf('\n', max - 2);
        if (cut <= 0)
        {
            cut = max - 1;
            var amp = escaped.LastIndexOf('&', cut - 1, Math.Min(cut, 5));
            if (amp >= 0)
            {
                cut = amp;
            }
        }
        return string.Concat(escaped.AsSpan(0, cut), SlackText.Ellipsis);
    }

    public static JsonObject Header(string text) => new()
    {
        ["type"] = "header",
        ["text"] = Plain(text, SlackLimits.HeaderText),
    };

    public static JsonObject Section(string mrkdwn) => new()
    {
        ["type"] = "section",
        ["text"] = new JsonObject { ["type"] = "mrkdwn", ["text"] = Fit(NonEmpty(mrkdwn), SlackLimits.SectionText) },
    };

    private static JsonObject Fields(IEnumerable<string> fields)
    {
        var array = new JsonArray();
        foreach (var field in fields.Take(SlackLimits.Fields))
        {
            array.Add(new JsonObject { ["type"] = "mrkdwn", ["text"] = Fit(NonEmpty(field), SlackLimits.FieldText) });
        }
        return new JsonObject { ["type"] = "section", ["fields"] = array };
    }

    public static JsonObject Context(string mrkdwn) => new()
    {
        ["type"] = "context",
        ["elements"] = new JsonArray(new JsonObject { ["type"] = "mrkdwn", ["text"] = Fit(NonEmpty(mrkdwn), SlackLimits.SectionText) }),
    };

    /// <summary>A plain_text object; the text is escaped too, as Slack decodes the three entities in every text object.</summary>
    public static JsonObject Plain(string text, int max) => new()
    {
        ["type"] = "plain_text",
        ["text"] = SlackText.EscapeTruncate(NonEmpty(text), max),
        ["emoji"] = true,
    };

    private static string NonEmpty(string text) => string.IsNullOrWhiteSpace(text) ? " " : text;
}
