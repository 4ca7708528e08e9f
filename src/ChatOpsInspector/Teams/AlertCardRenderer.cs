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
            Text(TeamsText.Escape(title), weight: "Bolder", color: isError ? "Attention" : null),
            Text(TeamsText.Escape(TeamsText.Cut(text, 2000)))),
    };

    private static JsonObject Render(AlertCardView view, CardViewer viewer, (int Resources, int History, int Description) level)
    {
        var body = new JsonArray();
        body.Add(new JsonObject
        {
            ["type"] = "Container",
            ["style"] = view.Severity >= Severity.High ? "attention" : view.Severity == Severity.Medium ? "warning" : "emphasis",
            ["bleed"] = true,
            ["items"] = new JsonArray(
                Text($"{SeverityIcon(view.Severity)} {AlertCardBuilder.SeverityLabel(view.Severity)} · {view.PriorityLabel} · {TeamsText.Escape(view.VulnerabilityId)}", weight: "Bolder"),
                Text(TeamsText.Escape(TeamsText.Cut(view.Title, 200)), size: "Medium", weight: "Bolder")),
        });
        if (viewer.Notice is { Length: > 0 } notice)
        {
            body.Add(Text(TeamsText.Escape(TeamsText.Cut(notice, 500)), color: viewer.NoticeIsError ? "Attention" : "Good", weight: "Bolder"));
        }
        body.Add(Text("**State:** " + TeamsText.Escape(view.StateLabel), color: view.SlaBreached ? "Attention" : null));
        if (view.ApprovalSummary is { Length: > 0 } approving)
        {
            body.Add(Text("**Approving runs:** " + TeamsText.Escape(TeamsText.Cut(approving, 1500)), color: "Warning"));
        }
        body.Add(new JsonObject { ["type"] = "FactSet", ["facts"] = Facts(view) });

        if (level.Description > 0 && view.Description is { Length: > 0 } description)
        {
            body.Add(Text(TeamsText.Escape(TeamsText.Cut(description, level.Description)), subtle: true, maxLines: 6));
        }

        body.Add(Text($"**Affected resources ({view.ResourceCount})**", separator: true));
        var shown = view.Resources.Take(level.Resources).ToArray();
        foreach (var r in shown)
        {
            var tags = r.Tags.Count == 0 ? "" : "\n" + string.Join(", ", r.Tags.Select(t => $"{TeamsText.Escape(t.Key)}={TeamsText.Escape(t.Value)}"));
            body.Add(Text($"{TeamsText.Escape(r.Id)}\n{TeamsText.Escape(ShortType(r.Type))} · {TeamsText.Escape(r.Region)} · {TeamsText.Escape(r.Account)} · {TeamsText.Escape(r.Status)}{tags}",
                spacing: "Small"));
        }
        var more = view.ResourceCount - shown.Length;
        if (more > 0)
        {
            body.Add(Text($"+{more} more", subtle: true, spacing: "Small"));
        }

        if (view.PatchUnavailableReason is { Length: > 0 } reason)
        {
            body.Add(Text(TeamsText.Escape(reason), subtle: true));
        }
        else if (view.Remediation is { Length: > 0 } remediation && level.Description > 0)
        {
            body.Add(Text("**Fix:** " + TeamsText.Escape(remediation), subtle: true));
        }

        if (level.History > 0 && view.StateLines.Count > 0)
        {
            body.Add(Text("**History**", separator: true));
            foreach (var line in view.StateLines.TakeLast(level.History))
            {
                body.Add(Text(TeamsText.Escape(line), subtle: true, spacing: "None"));
            }
        }

        var links = new JsonArray(OpenUrl("Inspector console", view.InspectorConsoleUrl));
        if (view.VulnerabilityUrl is { } vulnerabilityUrl)
        {
            links.Add(OpenUrl(view.VulnerabilityId.StartsWith("CVE-", StringComparison.OrdinalIgnoreCase) ? "NVD" : "Advisory", vulnerabilityUrl));
        }
        body.Add(new JsonObject { ["type"] = "ActionSet", ["actions"] = links });

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

    private static JsonArray Facts(AlertCardView view)
    {
        var facts = new JsonArray();
        void Add(string title, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                facts.Add(new JsonObject { ["title"] = title, ["value"] = value });
            }
        }
        Add("Owner", TeamsText.Escape(view.Owner) + (view.Environment is { } env ? $" ({TeamsText.Escape(env)})" : ""));
        Add("Inspector score", view.InspectorScore?.ToString("0.0", CultureInfo.InvariantCulture));
        Add("CVSS", view.CvssBaseScore is { } cvss
            ? cvss.ToString("0.0", CultureInfo.InvariantCulture) + (view.CvssVector is { } v ? " " + TeamsText.Escape(v) : "")
            : view.CvssVector is { } vector ? TeamsText.Escape(vector) : null);
        Add("EPSS", view.Epss?.ToString("0.00%", CultureInfo.InvariantCulture));
        Add("Exploit available", view.ExploitAvailable ? "Yes" : "No");
        Add("Fix available", TeamsText.Escape(view.FixAvailable)
            + (view.FixedVersions.Count > 0 ? " → " + TeamsText.Escape(string.Join(", ", view.FixedVersions.Take(5))) : ""));
        Add("Packages", view.Packages.Count == 0 ? null
            : TeamsText.Escape(string.Join(", ", view.Packages.Take(5))) + (view.Packages.Count > 5 ? $" +{view.Packages.Count - 5} more" : ""));
        Add("Open / fixed", $"{view.OpenCount} / {view.FixedCount}");
        Add("First seen", AlertCardBuilder.Format(view.FirstSeenAt));
        Add("SLA due", AlertCardBuilder.Format(view.SlaDueAt) + (view.SlaBreached ? " (breached)" : ""));
        if (view.PatchProgress is { } progress)
        {
            Add(view.RunNoun.Length > 0 ? string.Concat(view.RunNoun[..1].ToUpperInvariant(), view.RunNoun.AsSpan(1)) : "Patch", TeamsText.Escape(progress));
        }
        return facts;
    }

    private static JsonArray Actions(AlertCardView view, CardViewer viewer)
    {
        var actions = new JsonArray();
        foreach (var action in view.Actions.Where(viewer.Allowed.Contains))
        {
            actions.Add(action switch
            {
                CardAction.Acknowledge => Execute("Acknowledge", action, view.GroupId, style: "positive"),
                CardAction.Assign => AssignForm(view, viewer),
                CardAction.Suppress => SuppressForm(view, viewer),
                CardAction.Unsuppress => Execute("Unsuppress", action, view.GroupId),
                CardAction.RequestPatch => Execute("Request patch", action, view.GroupId),
                CardAction.ApprovePatch => Confirming(Execute(view.RunNoun == "isolation" ? "Approve isolation" : "Approve patch", action, view.GroupId, "positive", viewer.PatchRequestId)),
                CardAction.RejectPatch => Execute(view.RunNoun == "isolation" ? "Reject isolation" : "Reject patch", action, view.GroupId, "destructive", viewer.PatchRequestId),
                CardAction.RequestIsolation => Confirming(Execute("Request isolation", action, view.GroupId, "destructive")),
                CardAction.Release => Confirming(Execute("Release isolation", action, view.GroupId, "destructive")),
                _ => null,
            });
        }
        return actions;
    }

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
        return ShowCard("Assign…", new JsonArray(input), Execute("Assign", CardAction.Assign, view.GroupId, style: "positive"));
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
        return ShowCard("Suppress…", inputs, Execute("Suppress", CardAction.Suppress, view.GroupId, style: "destructive"));
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

    private static string ShortType(string type) => type switch
    {
        "AWS_EC2_INSTANCE" => "EC2",
        "AWS_ECR_CONTAINER_IMAGE" => "ECR image",
        "AWS_ECR_REPOSITORY" => "ECR repo",
        "AWS_LAMBDA_FUNCTION" => "Lambda",
        _ => type,
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
