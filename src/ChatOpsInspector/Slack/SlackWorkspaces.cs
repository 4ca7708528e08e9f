using System.Text;
using System.Text.Json.Nodes;

namespace ChatOpsInspector.Slack;

/// <summary>
/// Which workspace a signed Slack request comes from. The signing secret proves it comes from our app,
/// not from our organisation: an app installed elsewhere, or a Slack Connect guest, signs the same way.
/// So every team id the request names (the workspace, the user's home team) must be in
/// <see cref="SlackOptions.TeamIds"/>, or the Enterprise Grid organisation it names must be.
/// </summary>
internal static class SlackWorkspaces
{
    /// <summary>
    /// The team and enterprise ids a request to <paramref name="path"/> names; null when there is nothing
    /// to act on (an unreadable payload, which the handler answers with 400, or an event other than a callback).
    /// </summary>
    public static (IReadOnlyList<string> Teams, IReadOnlyList<string> Enterprises)? Named(string path, byte[] body)
    {
        if (path.EndsWith("/commands", StringComparison.Ordinal))
        {
            var form = SlackPayload.Form(body);
            return (Ids(form.Field("team_id")), Ids(form.Field("enterprise_id")));
        }
        if (path.EndsWith("/interactions", StringComparison.Ordinal))
        {
            var payload = SlackPayload.ParseObject(SlackPayload.Form(body).Field("payload"));
            if (payload is null)
            {
                return null;
            }
            return (Ids(Id(payload?["team"]), Str(payload?["user"], "team_id"), Str(payload, "team_id")),
                Ids(Id(payload?["enterprise"]), Str(payload?["user"], "enterprise_id"), Str(payload, "enterprise_id")));
        }
        if (path.EndsWith("/events", StringComparison.Ordinal))
        {
            var payload = SlackPayload.ParseObject(Encoding.UTF8.GetString(body));
            if (payload?["type"].Str() != "event_callback")
            {
                return null;
            }
            var evt = payload["event"];
            return (Ids(Str(payload, "team_id"), Str(evt, "team"), Str(evt, "user_team")),
                Ids(Str(payload, "enterprise_id"), Str(evt, "enterprise"), Str(evt, "user_enterprise")));
        }
        return (Ids(), Ids());
    }

    /// <summary>True when every team the request names is ours, or the Enterprise Grid organisation it names is.</summary>
    public static bool IsAllowed(IReadOnlyList<string> teams, IReadOnlyList<string> enterprises, IReadOnlyCollection<string> allowed)
    {
        if (allowed.Count == 0)
        {
            return false;
        }
        return (teams.Count > 0 && teams.All(allowed.Contains))
            || (enterprises.Count > 0 && enterprises.All(allowed.Contains));
    }

    public static bool IsValidId(string id) =>
        id.Length is >= 2 and <= 32 && id[0] is 'T' or 'E' && id.All(c => char.IsAsciiLetterUpper(c) || char.IsAsciiDigit(c));

    private static string? Id(JsonNode? node) => node is JsonObject o ? o["id"].Str() : null;

    private static string? Str(JsonNode? node, string name) => node is JsonObject o ? o[name].Str() : null;

    private static string[] Ids(params string?[] ids) => ids.Where(i => !string.IsNullOrEmpty(i)).Select(i => i!).Distinct(StringComparer.Ordinal).ToArray();
}
