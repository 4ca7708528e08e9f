using System.Globalization;
using System.Text.Json.Nodes;
using ChatOpsInspector.Cards;
using ChatOpsInspector.Findings;

namespace ChatOpsInspector.Teams;

/// <summary>A person offered in the Assign picker: the value travels back in the action data.</summary>
internal sealed record AssignChoice(string Value, string Title);

/// <summary>What one viewer of a card may do, plus any message addressed to them.</summary>
internal sealed record CardViewer
{
    /// <summary>Actions this viewer may use; offered actions outside it are not shown.</summary>
    public required IReadOnlySet<CardAction> Allowed { get; init; }
    public IReadOnlyList<AssignChoice> Assignees { get; init; } = [];

    /// <summary>Teams user MRIs whose clients re-fetch the card for themselves (people with extra rights).</summary>
    public IReadOnlyList<string> RefreshUserIds { get; init; } = [];

    /// <summary>The pending patch request, so Approve/Reject cannot decide a newer one by accident.</summary>
    public string? PatchRequestId { get; init; }

    /// <summary>Outcome of the viewer's last action ("You acknowledged…" or why it was refused).</summary>
    public string? Notice { get; init; }
    public bool NoticeIsError { get; init; }

    /// <summary>First date the suppression date picker offers.</summary>
    public DateOnly? Today { get; init; }
}

/// <summary>
/// Renders an <see cref="AlertCardView"/> as an Adaptive Card 1.5 with Universal Actions. Pure: the
/// same view and viewer give the same JSON. Readable on a phone: one column, fact sets, wrapped text.
/// </summary>
internal static class AlertCardRenderer
{
    public const string ContentType = "application/vnd.microsoft.card.adaptive";
    public const string RefreshVerb = "refresh";

    /// <summary>Teams refuses messages over about 28 KB; stay well under it with the envelope around the card.</summary>
    public const int MaxCardBytes = 24 * 1024;

    public static readonly IReadOnlyList<int> SuppressDays = [7, 30, 90];

    private static readonly (int Resources, int History, int Description)[] DetailLevels =
    [
        (AlertCardBuilder.MaxResourcesShown, 5, AlertCardBuilder.MaxDescriptionChars),
        (5, 3, 300),
        (3, 1, 0),
        (1, 0, 0),
    ];

    public static JsonObject Render(AlertCardView view, CardViewer viewer)
    {
        JsonObject card = null!;
        foreach (var level in DetailLevels)
        {
            card = Render(view, viewer, level);
            if (System.Text.Encoding.UTF8.GetByteCount(card.ToJsonString()) <= MaxCardBytes)
            {
                break;
            }
        }
        return card;
    }

    /// <summary>A small card that only says something (refusals, command answers, errors).</summary>
    public static JsonObject Message(string title, string text, bool isError = false) => new()
    {
        ["type"] = "AdaptiveCard",
        ["$schema"] = "http://adaptivecards.io/schemas/adaptive-card.json",
        ["version"] = "1.5",
        ["fallbackText"] = TeamsText.Cut(title + ": " + text, 300),
        ["body"] = new JsonArray(
            Plain(TeamsText.Cut(title, 200), bold: true, color: isError ? "Attention" : null),
            Plain(TeamsText.Cut(text, 2000))),
    };

    // Text from a finding or a person (titles, package names, descriptions, tags, display names, reasons)
    // only ever goes into RichTextBlock TextRuns. Adaptive Cards render markdown in TextBlock and in
    // FactSet titles and values (the "Text features" subset: **bold**, _italic_, "- " and "1. " lists,
    // [links](url)); a TextRun's text is never markdown. So nothing needs escaping: no backslashes and no
    // HTML entities, which Teams' iOS/Android markdown parser shows literally ("\_", "&amp;amp;"), and the
    // same characters appear on web, desktop and mobile. TextBlocks carry only the bot's own words, without
    // markdown, and the {{DATE()}}/{{TIME()}} functions that show each reader their own time zone.
    private static JsonObject Render(AlertCardView view, CardViewer viewer, (int Resources, int History, int Description) level)
    {
        var body = new JsonArray();
        body.Add(new JsonObject
        {
            ["type"] = "Container",
            ["style"] = HeaderStyle(view),
            ["bleed"] = true,
            ["items"] = new JsonArray(
                Text(HeaderLine(view), weight: "Bolder"),
                Plain(TeamsText.Cut(view.ShownId is { } id ? $"{id}: {AlertCardBuilder.TitleWithoutId(view.Title, id)}" : view.Title, 250), bold: true, size: "Medium")),
        });
        if (viewer.Notice is { Length: > 0 } notice)
        {
            body.Add(Plain(TeamsText.Cut(notice, 500), bold: true, color: viewer.NoticeIsError ? "Attention" : "Good"));
        }
        AddState(body, view);
        if (view.ApprovalSummary is { Length: > 0 } approving)
        {
            body.Add(Row("Approving runs", TeamsText.Cut(approving, 1500), color: "Warning"));
        }
        AddHowBad(body, view);
        AddWhat(body, view);

        if (level.Description > 0 && view.Description is { Length: > 0 } description)
        {
            body.Add(Plain(TeamsText.Cut(description, level.Description), subtle: true));
        }
        if (level.Description > 0 && view.NextStep is { Length: > 0 } next && view.Look is not (CardLook.Resolved or CardLook.Suppressed))
        {
            body.Add(Row("Next step", next));
        }
        else if (view.PatchUnavailableReason is { Length: > 0 } reason && view.Look is not (CardLook.Resolved or CardLook.Suppressed))
        {
            body.Add(Plain(reason, subtle: true));
        }

        body.Add(Text($"Where ({view.ResourceCount})", weight: "Bolder", separator: true));
        var shown = view.Resources.Take(level.Resources).ToArray();
        foreach (var r in shown)
        {
            body.Add(Plain(r.Name ?? r.Id, bold: true, spacing: "Small"));
            var line = string.Join(" · ", new[] { r.Name is null ? null : r.Id, r.TypeLabel, r.Account, r.Region, r.StatusLabel }.Where(p => p is not null));
            body.Add(Plain(line, subtle: true, spacing: "None"));
            var tags = r.Tags.Where(t => t.Key != "Name").ToArray();
            if (tags.Length > 0)
            {
                body.Add(Plain(string.Join(", ", tags.Select(t => $"{t.Key}={t.Value}")), subtle: true, spacing: "None"));
            }
        }
        var more = view.ResourceCount - shown.Length;
        if (more > 0)
        {
            body.Add(Text($"+{more} more", subtle: true, spacing: "Small"));
        }

        if (level.History > 0 && view.StateLines.Count > 0)
        {
            body.Add(Text("History", weight: "Bolder", separator: true));
            foreach (var line in view.StateLines.TakeLast(level.History))
            {
                body.Add(Plain(line, subtle: true, spacing: "None"));
            }
        }

        body.Add(new JsonObject { ["type"] = "ActionSet", ["actions"] = Links(view) });

        var card = new JsonObject
        {
            ["type"] = "AdaptiveCard",
            ["$schema"] = "http://adaptivecards.io/schemas/adaptive-card.json",
            ["version"] = "1.5",
            ["fallbackText"] = TeamsText.Cut(view.FallbackText, 300),
            ["speak"] = TeamsText.Cut(view.FallbackText, 300),
            ["refresh"] = new JsonObject
            {
                ["action"] = new JsonObject
                {
                    ["type"] = "Action.Execute",
                    ["title"] = "Refresh",
                    ["verb"] = RefreshVerb,
                    ["data"] = Data(view.GroupId),
                },
                ["userIds"] = new JsonArray([.. viewer.RefreshUserIds.Select(id => (JsonNode)JsonValue.Create(id)!)]),
            },
            ["body"] = body,
        };
        var actions = Actions(view, viewer);
        if (actions.Count > 0)
        {
            card["actions"] = actions;
        }
        return card;
    }

    /// <summary>Resolved is green, suppressed plain, overdue red, in progress blue; an open card takes its severity's colour.</summary>
    private static string HeaderStyle(AlertCardView view) => view.Look switch
    {
        CardLook.Resolved => "good",
        CardLook.Suppressed => "default",
        CardLook.Breached => "attention",
        CardLook.InProgress => "accent",
        _ => view.Severity >= Severity.High ? "attention" : view.Severity == Severity.Medium ? "warning" : "emphasis",
    };

    private static string HeaderLine(AlertCardView view)
    {
        var severity = AlertCardBuilder.SeverityLabel(view.Severity);
        return view.Look switch
        {
            CardLook.Resolved => $"✅ Fixed · {severity} · {view.KindLabel}",
            CardLook.Suppressed => $"🔕 Suppressed · {severity} · {view.KindLabel}",
            CardLook.Breached => $"🚨 Overdue · {severity} · {view.PriorityLabel}",
            _ => $"{SeverityIcon(view.Severity)} {severity} · {view.PriorityLabel} · {view.KindLabel}",
        };
    }

    /// <summary>The state and the time that matters in it: fixed in, suppressed until, overdue by, or due.</summary>
    private static void AddState(JsonArray body, AlertCardView view)
    {
        switch (view.Look)
        {
            case CardLook.Resolved:
                body.Add(Text(view.ResolvedLine ?? "Fixed", weight: "Bolder", color: "Good"));
                if (view.ResolvedAt is { } resolvedAt)
                {
                    body.Add(Text("Verified by Inspector " + When(resolvedAt), subtle: true, spacing: "None"));
                }
                break;
            case CardLook.Suppressed when view.Suppression is { } s:
                body.Add(Text("Suppressed until " + When(s.Until), weight: "Bolder"));
                body.Add(RichText(Run("By ", subtle: true), Run(s.By, bold: true), Run(": ", subtle: true), Run(TeamsText.Cut(s.Reason, 500))));
                break;
            default:
                body.Add(Row("State", view.StateLabel, color: view.Look == CardLook.Breached ? "Attention" : null));
                var stage = view.SlaStage is { } words ? " · " + words : "";
                body.Add(Text("SLA due " + When(view.SlaDueAt) + stage,
                    color: view.Look == CardLook.Breached ? "Attention" : null, weight: view.Look == CardLook.Breached ? "Bolder" : null, spacing: "None"));
                break;
        }
        if (view.PatchProgress is { } progress)
        {
            body.Add(Row(view.RunNoun.Length > 0 ? string.Concat(view.RunNoun[..1].ToUpperInvariant(), view.RunNoun.AsSpan(1)) : "Patch", progress));
        }
    }

    /// <summary>How bad: only the figures this finding has (never "n/a").</summary>
    private static void AddHowBad(JsonArray body, AlertCardView view)
    {
        var parts = new List<string>();
        if (view.InspectorScore is { } score)
        {
            parts.Add("Score " + score.ToString("0.0", CultureInfo.InvariantCulture));
        }
        if (view.Epss is { } epss)
        {
            parts.Add("EPSS " + epss.ToString("0.##%", CultureInfo.InvariantCulture));
        }
        if (view.ExploitLabel is { } exploit)
        {
            parts.Add(view.ExploitAvailable ? "⚠️ Exploit available" : "No known exploit");
        }
        if (view.FixLabel is { } fix)
        {
            parts.Add(fix);
        }
        if (parts.Count > 0)
        {
            body.Add(Text(string.Join(" · ", parts), separator: true));
        }
        if (view.CvssVector is { } vector)
        {
            body.Add(Plain("CVSS " + (view.CvssBaseScore is { } b ? b.ToString("0.0", CultureInfo.InvariantCulture) + " " : "") + vector, subtle: true, spacing: "None"));
        }
        body.Add(Text("First seen " + When(view.FirstSeenAt) + $" · {view.OpenCount} open, {view.FixedCount} fixed", spacing: "None"));
        body.Add(Row("Owner", view.Owner + (view.Environment is { } env ? $" ({env})" : "")));
    }

    /// <summary>What is vulnerable: package → fixed version, file:line and detector, or port and network path.</summary>
    private static void AddWhat(JsonArray body, AlertCardView view)
    {
        foreach (var p in view.PackageLines)
        {
            body.Add(RichText(
                Run(p.Name, bold: true),
                Run(p.Installed is { } installed ? " " + installed : ""),
                Run(p.FixedIn is { } fixedIn ? " → " + fixedIn : " (no fixed version yet)", color: p.FixedIn is null ? null : "Good")));
        }
        if (view.MorePackages > 0)
        {
            body.Add(Text($"+{view.MorePackages} more packages", subtle: true, spacing: "None"));
        }
        if (view.Code is { } code)
        {
            if (code.Location is { } location)
            {
                body.Add(Row("Code", location, monospace: true));
            }
            if (code.Detector is { } detector)
            {
                body.Add(Row("Detector", detector));
            }
        }
        if (view.Network is { } network)
        {
            body.Add(Row("Open", network.Exposure));
            if (network.Path.Count > 0)
            {
                body.Add(Row("Path", string.Join(" → ", network.Path.Select(h => $"{h.Label} {h.Id}"))));
            }
            if (network.SecurityGroups.Count > 0)
            {
                body.Add(Row("Change", "security group " + string.Join(", ", network.SecurityGroups)
                    + (network.NetworkAcls.Count > 0 ? " or network ACL " + string.Join(", ", network.NetworkAcls) : ""), bold: true));
            }
        }
    }

    /// <summary>Adaptive Card date functions: each reader's client shows the date and time in their own zone.</summary>
    private static string When(DateTimeOffset at)
    {
        var iso = at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        return $"{{{{DATE({iso}, SHORT)}}}} {{{{TIME({iso})}}}}";
    }

    private static JsonArray Links(AlertCardView view)
    {
        var links = new List<(string Title, string Url)> { ("Console", view.InspectorConsoleUrl) };
        if (view.VulnerabilityUrl is { } vulnerabilityUrl)
        {
            links.Add((view.VulnerabilityId.StartsWith("CVE-", StringComparison.OrdinalIgnoreCase) ? "NVD" : "Advisory", vulnerabilityUrl));
        }
        links.AddRange(view.Code?.Cwes.Select(c => (c.Label, c.Url)) ?? []);
        links.AddRange(view.Links.Select(l => ("Docs: " + TeamsText.Cut(l.Label, 40), l.Url)));
        var actions = new JsonArray();
        foreach (var (link, i) in links.Select((l, i) => (l, i)))
        {
            var open = OpenUrl(link.Title, link.Url);
            if (i >= MaxPrimaryActions)
            {
                open["mode"] = "secondary";
            }
            actions.Add(open);
        }
        return actions;
    }

    /// <summary>
    /// At most three buttons in a row fit a 360 px phone with short labels; the rest go to the "…"
    /// overflow menu (<c>mode: secondary</c>, Adaptive Cards 1.5). Approvals and triage come first.
    /// </summary>
    public const int MaxPrimaryActions = 3;

    private static JsonArray Actions(AlertCardView view, CardViewer viewer)
    {
        var actions = new JsonArray();
        var primary = 0;
        foreach (var action in view.Actions.Where(viewer.Allowed.Contains))
        {
            JsonObject? item = action switch
            {
                CardAction.Acknowledge => Execute(Label(action), action, view.GroupId, style: "positive"),
                CardAction.Assign => AssignForm(view, viewer),
                CardAction.Suppress => SuppressForm(view, viewer),
                CardAction.Unsuppress => Execute(Label(action), action, view.GroupId),
                CardAction.RequestPatch => Execute(Label(action), action, view.GroupId),
                CardAction.ApprovePatch => Confirming(Execute(Label(action), action, view.GroupId, "positive", viewer.PatchRequestId)),
                CardAction.RejectPatch => Execute(Label(action), action, view.GroupId, "destructive", viewer.PatchRequestId),
                CardAction.RequestIsolation => Confirming(Execute(Label(action), action, view.GroupId, "destructive")),
                CardAction.Release => Confirming(Execute(Label(action), action, view.GroupId, "destructive")),
                _ => null,
            };
            if (item is null)
            {
                continue;
            }
            if (++primary > MaxPrimaryActions)
            {
                item["mode"] = "secondary";
            }
            actions.Add(item);
        }
        return actions;
    }

    /// <summary>Button labels short enough for three in a row at 360 px.</summary>
    public static string Label(CardAction action) => action switch
    {
        CardAction.Acknowledge => "Ack",
        CardAction.Assign => "Assign",
        CardAction.Suppress => "Suppress",
        CardAction.Unsuppress => "Unsuppress",
        CardAction.RequestPatch => "Patch",
        CardAction.ApprovePatch => "Approve",
        CardAction.RejectPatch => "Reject",
        CardAction.RequestIsolation => "Isolate",
        CardAction.Release => "Release",
        _ => action.ToString(),
    };

    private static JsonObject AssignForm(AlertCardView view, CardViewer viewer)
    {
        JsonObject input = viewer.Assignees.Count > 0
            ? new JsonObject
            {
                ["type"] = "Input.ChoiceSet",
                ["id"] = TeamsActionData.Assignee,
                ["label"] = "Assign to",
                ["style"] = "compact",
                ["isRequired"] = true,
                ["errorMessage"] = "Pick a person.",
                ["choices"] = new JsonArray([.. viewer.Assignees.Select(a => (JsonNode)new JsonObject { ["title"] = a.Title, ["value"] = a.Value })]),
            }
            : new JsonObject
            {
                ["type"] = "Input.Text",
                ["id"] = TeamsActionData.Assignee,
                ["label"] = "Assign to (e-mail or Entra object id)",
                ["isRequired"] = true,
                ["maxLength"] = 200,
                ["errorMessage"] = "Say who to assign.",
            };
        return ShowCard(Label(CardAction.Assign), new JsonArray(input), Execute("Assign", CardAction.Assign, view.GroupId, style: "positive"));
    }

    private static JsonObject SuppressForm(AlertCardView view, CardViewer viewer)
    {
        var date = new JsonObject
        {
            ["type"] = "Input.Date",
            ["id"] = TeamsActionData.ExpiryDate,
            ["label"] = "…or until a date (optional)",
        };
        if (viewer.Today is { } today)
        {
            date["min"] = today.AddDays(1).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            date["max"] = today.AddDays(TeamsActionData.MaxSuppressDays).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        }
        var inputs = new JsonArray(
            new JsonObject
            {
                ["type"] = "Input.Text",
                ["id"] = TeamsActionData.Reason,
                ["label"] = "Reason",
                ["placeholder"] = "Why is this acceptable for now?",
                ["isMultiline"] = true,
                ["isRequired"] = true,
                ["maxLength"] = TeamsActionData.MaxReasonChars,
                ["errorMessage"] = "A reason is required.",
            },
            new JsonObject
            {
                ["type"] = "Input.ChoiceSet",
                ["id"] = TeamsActionData.Expiry,
                ["label"] = "Suppress for",
                ["style"] = "compact",
                ["value"] = "30",
                ["isRequired"] = true,
                ["errorMessage"] = "Pick how long.",
                ["choices"] = new JsonArray([.. SuppressDays.Select(d => (JsonNode)new JsonObject { ["title"] = $"{d} days", ["value"] = d.ToString(CultureInfo.InvariantCulture) })]),
            },
            date);
        return ShowCard(Label(CardAction.Suppress), inputs, Execute("Suppress", CardAction.Suppress, view.GroupId, style: "destructive"));
    }

    private static JsonObject ShowCard(string title, JsonArray inputs, JsonObject submit) => new()
    {
        ["type"] = "Action.ShowCard",
        ["title"] = title,
        ["card"] = new JsonObject
        {
            ["type"] = "AdaptiveCard",
            ["body"] = inputs,
            ["actions"] = new JsonArray(submit),
        },
    };

    private static JsonObject Execute(string title, CardAction action, string groupId, string? style = null, string? patchRequestId = null)
    {
        var execute = new JsonObject
        {
            ["type"] = "Action.Execute",
            ["title"] = title,
            ["verb"] = action.Id(),
            ["data"] = Data(groupId, patchRequestId),
            ["associatedInputs"] = "auto",
        };
        if (style is not null)
        {
            execute["style"] = style;
        }
        return execute;
    }

    /// <summary>Marks a button whose first press only asks "are you sure?" (see <see cref="Confirmation"/>).</summary>
    private static JsonObject Confirming(JsonObject execute)
    {
        execute["data"]![TeamsActionData.Step] = TeamsActionData.ConfirmStep;
        return execute;
    }

    /// <summary>
    /// The answer to the first press of Approve, Request isolation or Release: what will run, and
    /// Confirm (the same verb and data, without the confirmation step) or Cancel (back to the card).
    /// </summary>
    public static JsonObject Confirmation(AlertCardView view, CardAction action, string verb, JsonObject data)
    {
        var (title, text, yes) = action switch
        {
            CardAction.ApprovePatch when view.RunNoun == "isolation" =>
                ("Approve isolation?", "This cuts the instances off the network. " + view.ApprovalSummary, "Confirm isolation"),
            CardAction.ApprovePatch => ("Approve patch?", "This patches now. " + view.ApprovalSummary, "Confirm patch"),
            CardAction.RequestIsolation => ("Request isolation?",
                $"Asks an approver to cut the {view.OpenCount} open instance(s) of {view.VulnerabilityId} off the network.", "Confirm request"),
            _ => ("Release isolation?", "This restores the network access of the isolated instances.", "Confirm release"),
        };
        var confirmed = (JsonObject)data.DeepClone();
        confirmed.Remove(TeamsActionData.Step);
        var card = Message(title, text);
        card["actions"] = new JsonArray(
            new JsonObject
            {
                ["type"] = "Action.Execute",
                ["title"] = yes,
                ["verb"] = verb,
                ["data"] = confirmed,
                ["style"] = action == CardAction.ApprovePatch ? "positive" : "destructive",
            },
            new JsonObject
            {
                ["type"] = "Action.Execute",
                ["title"] = "Cancel",
                ["verb"] = RefreshVerb,
                ["data"] = Data(view.GroupId),
            });
        return card;
    }

    private static JsonObject Data(string groupId, string? patchRequestId = null)
    {
        var data = new JsonObject { [TeamsActionData.GroupId] = groupId };
        if (patchRequestId is not null)
        {
            data[TeamsActionData.PatchRequestId] = patchRequestId;
        }
        return data;
    }

    private static JsonObject OpenUrl(string title, string url) => new()
    {
        ["type"] = "Action.OpenUrl",
        ["title"] = title,
        ["url"] = url,
    };

    /// <summary>Finding or person text, shown literally (a TextRun is never markdown).</summary>
    private static JsonObject Plain(string text, bool bold = false, string? size = null, string? color = null,
        bool subtle = false, string? spacing = null) =>
        WithSpacing(RichText(Run(text, bold, color, subtle, size)), spacing);

    /// <summary>"Title: value" with a bold title and the value shown literally.</summary>
    private static JsonObject Row(string title, string value, string? color = null, bool bold = false, bool monospace = false)
    {
        var run = Run(value, bold, color);
        if (monospace)
        {
            run["fontType"] = "Monospace";
        }
        return WithSpacing(RichText(Run(title + ": ", bold: true), run), "Small");
    }

    private static JsonObject RichText(params JsonObject[] runs) => new()
    {
        ["type"] = "RichTextBlock",
        ["inlines"] = new JsonArray([.. runs.Where(r => r["text"]!.GetValue<string>().Length > 0)]),
    };

    private static JsonObject Run(string text, bool bold = false, string? color = null, bool subtle = false, string? size = null)
    {
        var run = new JsonObject { ["type"] = "TextRun", ["text"] = TeamsText.Literal(text) };
        if (bold) run["weight"] = "Bolder";
        if (color is not null) run["color"] = color;
        if (subtle) run["isSubtle"] = true;
        if (size is not null) run["size"] = size;
        return run;
    }

    private static JsonObject WithSpacing(JsonObject element, string? spacing)
    {
        if (spacing is not null)
        {
            element["spacing"] = spacing;
        }
        return element;
    }

    private static JsonObject Text(string text, string? weight = null, string? size = null, string? color = null,
        bool subtle = false, bool separator = false, string? spacing = null, int? maxLines = null)
    {
        var block = new JsonObject { ["type"] = "TextBlock", ["text"] = text, ["wrap"] = true };
        if (weight is not null) block["weight"] = weight;
        if (size is not null) block["size"] = size;
        if (color is not null) block["color"] = color;
        if (subtle) block["isSubtle"] = true;
        if (separator) block["separator"] = true;
        if (spacing is not null) block["spacing"] = spacing;
        if (maxLines is not null) block["maxLines"] = maxLines;
        return block;
    }

    private static string SeverityIcon(Severity severity) => severity switch
    {
        Severity.Critical => "🔴",
        Severity.High => "🟠",
        Severity.Medium => "🟡",
        _ => "⚪",
    };
}

/// <summary>Keys of <c>Action.Execute</c> data and input ids: the contract between card and handler.</summary>
internal static class TeamsActionData
{
    public const string GroupId = "groupId";
    public const string PatchRequestId = "patchRequestId";
    public const string Assignee = "assignee";
    public const string Reason = "reason";
    public const string Expiry = "expiry";
    public const string ExpiryDate = "expiryDate";

    /// <summary>"confirm" on buttons that first show a confirmation card.</summary>
    public const string Step = "step";
    public const string ConfirmStep = "confirm";
    public const int MaxReasonChars = 500;
    public const int MaxSuppressDays = 365;
}
