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
            Header(HeaderText(view)),
            Section(Summary(view)),
            Fields(FieldsOf(view)),
        };
        if (WhatIsVulnerable(view) is { Length: > 0 } what)
        {
            blocks.Add(Section(what));
        }
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
        if (!view.Actions.Contains(CardAction.RequestPatch) && !string.IsNullOrWhiteSpace(view.PatchUnavailableReason) && view.Look is not (CardLook.Resolved or CardLook.Suppressed))
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
            .Append(LookEmoji(view)).Append(" *").Append(AlertCardBuilder.SeverityLabel(view.Severity)).Append("* ")
            .Append(view.ShownId is { } id ? "`" + SlackText.EscapeTruncate(id, 100) + "` " : "")
            .Append(SlackText.EscapeTruncate(AlertCardBuilder.TitleWithoutId(view.Title, view.ShownId), 300))
            .Append('\n');
        var facts = new List<string>();
        if (view.InspectorScore is { } score)
        {
            facts.Add("score " + Number(score));
        }
        if (view.Epss is { } epss)
        {
            facts.Add("EPSS " + Percent(epss));
        }
        facts.Add(view.OpenCount.ToString(CultureInfo.InvariantCulture) + " open");
        facts.Add(Timing(view));
        text.Append(string.Join(" · ", facts))
            .Append('\n')
            .Append(SlackText.EscapeTruncate(view.StateLabel, 300))
            .Append(" · id `").Append(SlackText.EscapeTruncate(view.GroupId, 64)).Append('`');
        yield return Section(text.ToString());
        if (Actions(view) is { } actions)
        {
            yield return actions;
        }
    }

    /// <summary>
    /// Slack's date token: each reader sees the time in their own time zone, "Today"/"Yesterday" where it
    /// applies; clients that cannot render it show the UTC fallback.
    /// </summary>
    public static string Date(DateTimeOffset at) =>
        $"<!date^{at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)}^{{date_short_pretty}} {{time}}|{AlertCardBuilder.Format(at)}>";

    private static string HeaderText(AlertCardView view)
    {
        var prefix = view.Look switch
        {
            CardLook.Resolved => ":white_check_mark: Fixed ·",
            CardLook.Suppressed => ":no_bell: Suppressed ·",
            CardLook.Breached => ":rotating_light: Overdue ·",
            _ => SeverityEmoji(view.Severity),
        };
        var id = view.ShownId ?? view.KindLabel;
        return $"{prefix} {AlertCardBuilder.SeverityLabel(view.Severity)} {id}: {AlertCardBuilder.TitleWithoutId(view.Title, view.ShownId)}";
    }

    private static string LookEmoji(AlertCardView view) => view.Look switch
    {
        CardLook.Resolved => ":white_check_mark:",
        CardLook.Suppressed => ":no_bell:",
        CardLook.Breached => ":rotating_light:",
        _ => SeverityEmoji(view.Severity),
    };

    /// <summary>When, in the card's state: fixed in, suppressed until, or due with the stage.</summary>
    private static string Timing(AlertCardView view) => view.Look switch
    {
        CardLook.Resolved => view.ResolvedLine ?? "Fixed",
        CardLook.Suppressed when view.Suppression is { } s => "suppressed until " + Date(s.Until),
        _ => $"SLA due {Date(view.SlaDueAt)}" + (view.SlaStage is { } stage ? $" ({stage.ToLowerInvariant()})" : ""),
    };

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
        var text = new StringBuilder();
        switch (view.Look)
        {
            case CardLook.Resolved:
                text.Append('*').Append(SlackText.EscapeTruncate(view.ResolvedLine ?? "Fixed", 100)).Append('*');
                if (view.ResolvedAt is { } resolvedAt)
                {
                    text.Append(" · verified ").Append(Date(resolvedAt));
                }
                break;
            case CardLook.Suppressed when view.Suppression is { } s:
                text.Append("*Suppressed* until ").Append(Date(s.Until)).Append(" by ").Append(SlackText.EscapeTruncate(s.By, 100))
                    .Append(": ").Append(SlackText.EscapeTruncate(s.Reason, 600));
                break;
            default:
                text.Append('*').Append(SlackText.EscapeTruncate(view.PriorityLabel, 20)).Append("* · ")
                    .Append(SlackText.EscapeTruncate(view.StateLabel, 500));
                break;
        }
        text.Append(" · owner *").Append(SlackText.EscapeTruncate(view.Owner, 200)).Append('*');
        if (!string.IsNullOrEmpty(view.Environment))
        {
            text.Append(" · ").Append(SlackText.EscapeTruncate(view.Environment, 100));
        }
        text.Append('\n')
            .Append(SlackText.EscapeTruncate(view.KindLabel, 40)).Append(" · ")
            .Append(view.OpenCount.ToString(CultureInfo.InvariantCulture)).Append(" open, ")
            .Append(view.FixedCount.ToString(CultureInfo.InvariantCulture)).Append(" fixed, ")
            .Append(view.ResourceCount.ToString(CultureInfo.InvariantCulture)).Append(view.ResourceCount == 1 ? " resource" : " resources").Append(" · id `")
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

    /// <summary>How bad and when; only what applies to this finding and state (never "n/a").</summary>
    private static List<string> FieldsOf(AlertCardView view)
    {
        var fields = new List<string>();
        if (view.InspectorScore is { } score)
        {
            fields.Add($"*Inspector score*\n{Number(score)}");
        }
        if (view.CvssVector is { } vector)
        {
            fields.Add($"*CVSS*\n{(view.CvssBaseScore is { } b ? Number(b) + " " : "")}`{Esc(vector, 300)}`");
        }
        if (view.Epss is { } epss)
        {
            fields.Add($"*EPSS*\n{Percent(epss)}");
        }
        if (view.ExploitLabel is { } exploit)
        {
            fields.Add($"*Exploit available*\n{(view.ExploitAvailable ? ":warning: " : "")}{exploit}");
        }
        if (view.FixLabel is { } fix)
        {
            fields.Add($"*Fix*\n{fix}");
        }
        fields.Add($"*First seen*\n{Date(view.FirstSeenAt)}");
        switch (view.Look)
        {
            case CardLook.Resolved:
                fields.Add($"*Fixed*\n{Esc(view.ResolvedLine ?? "Yes", 100)}");
                break;
            case CardLook.Suppressed when view.Suppression is { } s:
                fields.Add($"*Suppressed until*\n{Date(s.Until)}");
                break;
            default:
                fields.Add($"*SLA due*\n{Date(view.SlaDueAt)}" + (view.SlaStage is { } stage
                    ? (view.Look == CardLook.Breached ? $"\n:rotating_light: {stage}" : $"\n{stage}")
                    : ""));
                break;
        }
        return fields;
    }

    /// <summary>What is vulnerable: packages and fixed versions, the code location, or the open port and its path.</summary>
    private static string WhatIsVulnerable(AlertCardView view)
    {
        var text = new StringBuilder();
        if (view.PackageLines.Count > 0)
        {
            text.Append(view.PackageLines.Count == 1 && view.MorePackages == 0 ? "*Package*" : "*Packages*");
            foreach (var p in view.PackageLines)
            {
                text.Append("\n• ").Append(Esc(p.Name, 100));
                if (p.Installed is { } installed)
                {
                    text.Append(' ').Append(Esc(installed, 80));
                }
                if (p.FixedIn is { } fixedIn)
                {
                    text.Append(" → ").Append(Esc(fixedIn, 80));
                }
            }
            if (view.MorePackages > 0)
            {
                text.Append("\n+").Append(view.MorePackages.ToString(CultureInfo.InvariantCulture)).Append(" more");
            }
        }
        if (view.Code is { } code)
        {
            var parts = new List<string>();
            if (code.Location is { } location)
            {
                parts.Add($"*Code* `{Esc(location, 300)}`");
            }
            if (code.Detector is { } detector)
            {
                parts.Add($"*Detector* {Esc(detector, 200)}");
            }
            if (code.Cwes.Count > 0)
            {
                parts.Add("*CWE* " + string.Join(", ", code.Cwes.Select(c => SlackText.Link(c.Url, c.Label) ?? Esc(c.Label, 20))));
            }
            text.Append(string.Join('\n', parts));
        }
        if (view.Network is { } network)
        {
            text.Append("*Open* ").Append(Esc(network.Exposure, 100));
            if (network.Path.Count > 0)
            {
                text.Append("\n*Path* ").Append(string.Join(" → ", network.Path.Select(h => $"{Esc(h.Label, 40)} `{Esc(h.Id, 80)}`")));
            }
            if (network.SecurityGroups.Count > 0)
            {
                text.Append("\n*Change* security group ").Append(string.Join(", ", network.SecurityGroups.Select(g => $"`{Esc(g, 80)}`")));
                if (network.NetworkAcls.Count > 0)
                {
                    text.Append(" or network ACL ").Append(string.Join(", ", network.NetworkAcls.Select(g => $"`{Esc(g, 80)}`")));
                }
            }
        }
        return Fit(text.ToString(), SlackLimits.SectionText);
    }

    private static string About(AlertCardView view)
    {
        var text = new StringBuilder();
        if (!string.IsNullOrWhiteSpace(view.Description))
        {
            text.Append(SlackText.EscapeTruncate(view.Description, 1500));
        }
        if (!string.IsNullOrWhiteSpace(view.NextStep) && view.Look is not (CardLook.Resolved or CardLook.Suppressed))
        {
            // The card builder cuts the next step, never inside a URL; 1,200 characters fit beside the description.
            text.Append(text.Length > 0 ? "\n" : "").Append("*Next step:* ").Append(SlackText.Escape(view.NextStep));
        }
        return text.ToString();
    }

    private static string ResourceList(AlertCardView view)
    {
        var text = new StringBuilder("*Where*");
        foreach (var r in view.Resources.Take(MaxResourceLines))
        {
            var tags = r.Tags.Where(t => t.Key != "Name").Take(5).ToArray();
            var tagText = tags.Length == 0 ? "" : " · " + string.Join(", ", tags.Select(t => $"{Esc(t.Key, 40)}={Esc(t.Value, 60)}"));
            text.Append("\n• ");
            if (r.Name is { } name)
            {
                text.Append('*').Append(Esc(name, 120)).Append("* ");
            }
            text.Append('`').Append(Esc(r.Id, 120)).Append("` · ").Append(Esc(r.TypeLabel, 40))
                .Append(" · ").Append(Esc(r.Account, 80)).Append(" · ").Append(Esc(r.Region, 30))
                .Append(" · ").Append(Esc(r.StatusLabel, 20)).Append(tagText);
        }
        var more = view.MoreResources + Math.Max(0, view.Resources.Count - MaxResourceLines);
        if (more > 0)
        {
            text.Append("\n+").Append(more.ToString(CultureInfo.InvariantCulture)).Append(" more");
        }
        // Ten lines of at most ~450 chars each stay below the section limit; the cut is a last resort.
        return Fit(text.ToString(), SlackLimits.SectionText);
    }

    private static string Links(AlertCardView view)
    {
        var links = new[]
            {
                SlackText.Link(view.InspectorConsoleUrl, "Inspector console"),
                SlackText.Link(view.VulnerabilityUrl, SlackText.Truncate(view.ShownId ?? "Advisory", 100)),
            }
            .Concat(view.Links.Select(l => SlackText.Link(l.Url, SlackText.Truncate(l.Label, 100))))
            .Where(l => l is not null);
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

    private static string Number(double value) => value.ToString("0.0", CultureInfo.InvariantCulture);

    private static string Percent(double probability) => (probability * 100).ToString("0.##", CultureInfo.InvariantCulture) + "%";

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
