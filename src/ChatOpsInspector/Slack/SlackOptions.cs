namespace ChatOpsInspector.Slack;

/// <summary>Section <c>Slack</c>. Without a bot token the bot runs without Slack (local mode).</summary>
internal sealed class SlackOptions
{
    public const string Section = "Slack";

    /// <summary>Bot user OAuth token (<c>xoxb-…</c>). Empty: no Slack adapter is registered.</summary>
    public string? BotToken { get; set; }

    /// <summary>App signing secret; every request to /api/slack is verified with it. Empty: all are refused.</summary>
    public string? SigningSecret { get; set; }

    /// <summary>
    /// Workspaces (<c>T…</c>) and Enterprise Grid organisations (<c>E…</c>) whose people may use the bot;
    /// required with a bot token or signing secret. A request naming any other team is refused (403).
    /// </summary>
    public List<string> TeamIds { get; set; } = [];

    public Uri ApiBaseUrl { get; set; } = new("https://slack.com/api/");

    /// <summary>
    /// App-level token (<c>xapp-…</c>, scope connections:write). Set: Socket Mode — the bot opens WebSockets
    /// to Slack through <c>apps.connections.open</c> and needs no public URL; the HTTP endpoints stay.
    /// </summary>
    public string? AppToken { get; set; }

    /// <summary>Socket Mode connections kept open at once (Slack allows up to 10; several survive a refresh without a gap).</summary>
    public int SocketModeConnections { get; set; } = 2;

    /// <summary>First wait before reconnecting after a dropped connection; doubles up to <see cref="SocketModeMaxBackoff"/>.</summary>
    public TimeSpan SocketModeBackoff { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan SocketModeMaxBackoff { get; set; } = TimeSpan.FromSeconds(30);

    public bool SocketMode => !string.IsNullOrWhiteSpace(AppToken);

    /// <summary>
    /// Hosts that <c>response_url</c>s may point at; empty means Slack's own, <c>hooks.slack.com</c>.
    /// Only https, except for loopback hosts (tests, local fakes).
    /// </summary>
    public List<string> ResponseUrlHosts { get; set; } = [];

    public const string DefaultResponseUrlHost = "hooks.slack.com";

    /// <summary>Requests signed longer ago than this are refused as replays.</summary>
    public TimeSpan SignatureTolerance { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Slack payloads are small; anything bigger is refused before it is read whole.</summary>
    public long MaxBodyBytes { get; set; } = 256 * 1024;

    /// <summary>How long a handled request or event id is remembered, so Slack's retries do no work twice.</summary>
    public TimeSpan RetryMemory { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Budget for answering a read-only command inline before finishing it via response_url.</summary>
    public TimeSpan InlineBudget { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How often the Slack work queue is polled when nothing woke it.</summary>
    public TimeSpan WorkPollInterval { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan HttpTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long an e-mail → Slack user id answer (<c>users.lookupByEmail</c>) is kept in the store.</summary>
    public TimeSpan PeopleCacheTtl { get; set; } = TimeSpan.FromHours(24);

    public bool Enabled => !string.IsNullOrWhiteSpace(BotToken);

    /// <summary>True when <paramref name="url"/> is a response_url we may post to.</summary>
    public bool IsAllowedResponseUrl(string? url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || !string.IsNullOrEmpty(uri.UserInfo))
        {
            return false;
        }
        var allowed = ResponseUrlHosts.Count == 0 ? [DefaultResponseUrlHost] : ResponseUrlHosts;
        if (!allowed.Contains(uri.Host, StringComparer.OrdinalIgnoreCase))
        {
            return false;
        }
        return uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback);
    }
}
