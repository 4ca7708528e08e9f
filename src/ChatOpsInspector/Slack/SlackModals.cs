using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using ChatOpsInspector.Alerts;

namespace ChatOpsInspector.Slack;

/// <summary>The Assign and Suppress dialogs: their views and the validation of what comes back.</summary>
internal static class SlackModals
{
    public const string AssignCallback = "coi_assign";
    public const string SuppressCallback = "coi_suppress";

    public const string AssigneeBlock = "assignee";
    public const string ReasonBlock = "reason";
    public const string ExpiryBlock = "expiry";
    public const string UntilBlock = "until";

    public static readonly int[] ExpiryDays = [7, 30, 90];
    public const int MaxDays = 365;

    /// <summary>What the dialog must remember between opening and submission.</summary>
    internal sealed record Context(string GroupId, string? ChannelId, string? ResponseUrl);

    public static JsonObject Assign(AlertGroup? group, Context context) =>
        Modal(AssignCallback, "Assign alert", "Assign", group, context,
            Input(AssigneeBlock, "Assign to", new JsonObject
            {
                ["type"] = "users_select",
                ["action_id"] = AssigneeBlock,
                ["placeholder"] = Plain("Pick a person"),
            }));

    public static JsonObject Suppress(AlertGroup? group, Context context)
    {
        var options = new JsonArray();
        foreach (var days in ExpiryDays)
        {
            options.Add(Option(days));
        }
        return Modal(SuppressCallback, "Suppress alert", "Suppress", group, context,
            Input(ReasonBlock, "Reason (kept in the audit log)", new JsonObject
            {
                ["type"] = "plain_text_input",
                ["action_id"] = ReasonBlock,
                ["multiline"] = true,
                ["max_length"] = Commands.CommandParser.MaxReasonLength,
                ["placeholder"] = Plain("Why is this acceptable for now?"),
            }),
            Input(ExpiryBlock, "Suppress for", new JsonObject
            {
                ["type"] = "static_select",
                ["action_id"] = ExpiryBlock,
                ["options"] = options,
                ["initial_option"] = Option(30),
            }),
            Input(UntilBlock, "…or until (overrides the above)", new JsonObject
            {
                ["type"] = "datepicker",
                ["action_id"] = UntilBlock,
                ["placeholder"] = Plain("Pick a date"),
            }, optional: true));
    }

    /// <summary>A dialog: the alert it is about first, then its inputs.</summary>
    private static JsonObject Modal(string callback, string title, string submit, AlertGroup? group, Context context, params JsonObject[] inputs)
    {
        var blocks = new JsonArray { Summary(group, context.GroupId) };
        foreach (var input in inputs)
        {
            blocks.Add(input);
        }
        return new JsonObject
        {
            ["type"] = "modal",
            ["callback_id"] = callback,
            ["title"] = Plain(title),
            ["submit"] = Plain(submit),
            ["close"] = Plain("Cancel"),
            ["private_metadata"] = Metadata(context),
            ["blocks"] = blocks,
        };
    }

    private static JsonObject Input(string blockId, string label, JsonObject element, bool optional = false)
    {
        var input = new JsonObject { ["type"] = "input", ["block_id"] = blockId };
        if (optional)
        {
            input["optional"] = true;
        }
        input["label"] = Plain(label);
        input["element"] = element;
        return input;
    }

    /// <summary>The validated suppression, or the errors to show per block (<c>response_action: errors</c>).</summary>
    public static (string? Reason, DateTimeOffset? ExpiresAt, Dictionary<string, string> Errors) ReadSuppress(JsonNode? values, DateTimeOffset now)
    {
        var errors = new Dictionary<string, string>();
        var reason = values?[ReasonBlock]?[ReasonBlock]?["value"].Str()?.Trim();
        if (string.IsNullOrEmpty(reason))
        {
            errors[ReasonBlock] = "Say why this can be suppressed.";
        }
        else if (reason.Length > Commands.CommandParser.MaxReasonLength)
        {
            errors[ReasonBlock] = $"Keep it under {Commands.CommandParser.MaxReasonLength} characters.";
        }
        DateTimeOffset? expires = null;
        var date = values?[UntilBlock]?[UntilBlock]?["selected_date"].Str();
        if (!string.IsNullOrEmpty(date))
        {
            if (!DateTime.TryParseExact(date, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
            {
                errors[UntilBlock] = "Pick a date.";
            }
            else if (day.Date <= now.UtcDateTime.Date)
            {
                errors[UntilBlock] = "Pick a date after today.";
            }
            else if (day.Date > now.UtcDateTime.Date.AddDays(MaxDays))
            {
                errors[UntilBlock] = $"Suppress for at most {MaxDays} days.";
            }
            else
            {
                expires = new DateTimeOffset(day.Date.AddDays(1).AddTicks(-1), TimeSpan.Zero);
            }
        }
        else
        {
            var selected = values?[ExpiryBlock]?[ExpiryBlock]?["selected_option"]?["value"].Str();
            if (int.TryParse(selected, NumberStyles.None, CultureInfo.InvariantCulture, out var days) && ExpiryDays.Contains(days))
            {
                expires = now.AddDays(days);
            }
            else
            {
                errors[ExpiryBlock] = "Pick how long, or a date below.";
            }
        }
        return (reason, expires, errors);
    }

    public static string? ReadAssignee(JsonNode? values) =>
        values?[AssigneeBlock]?[AssigneeBlock]?["selected_user"].Str() is { Length: > 0 } user ? user : null;

    public static JsonObject Errors(Dictionary<string, string> errors)
    {
        var map = new JsonObject();
        foreach (var (block, message) in errors)
        {
            map[block] = message;
        }
        return new JsonObject { ["response_action"] = "errors", ["errors"] = map };
    }

    public static Context? ReadContext(string? metadata)
    {
        try
        {
            if (JsonNode.Parse(metadata ?? "") is JsonObject o && o["g"].Str() is { Length: > 0 } group)
            {
                return new Context(group, o["c"].Str(), o["r"].Str());
            }
        }
        catch (JsonException)
        {
        }
        catch (InvalidOperationException)
        {
        }
        return null;
    }

    private static string Metadata(Context context)
    {
        var json = new JsonObject { ["g"] = context.GroupId, ["c"] = context.ChannelId, ["r"] = context.ResponseUrl }.ToJsonString();
        return json.Length <= SlackLimits.PrivateMetadata
            ? json
            : new JsonObject { ["g"] = context.GroupId, ["c"] = context.ChannelId }.ToJsonString();
    }

    private static JsonObject Summary(AlertGroup? group, string groupId) => SlackCards.Section(group is null
        ? $"Alert `{SlackText.EscapeTruncate(groupId, 64)}`"
        : $"*{SlackText.EscapeTruncate(group.VulnerabilityId, 100)}* {SlackText.EscapeTruncate(group.Meta.Title, 500)}\nOwner *{SlackText.EscapeTruncate(group.Owner, 100)}* · {group.OpenCount} open · id `{group.Id}`");

    private static JsonObject Option(int days) => new()
    {
        ["text"] = Plain($"{days} days"),
        ["value"] = days.ToString(CultureInfo.InvariantCulture),
    };

    private static JsonObject Plain(string text) => new() { ["type"] = "plain_text", ["text"] = text };
}
