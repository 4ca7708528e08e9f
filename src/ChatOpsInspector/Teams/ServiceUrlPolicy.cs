using Microsoft.Extensions.Options;

namespace ChatOpsInspector.Teams;

/// <summary>
/// Decides which Bot Connector service URLs may receive the bot's token. The service URL arrives in
/// each activity, so without this check anyone who can get an activity accepted could harvest tokens.
/// </summary>
internal sealed class ServiceUrlPolicy(IOptions<TeamsOptions> options, LocalDevelopmentAuth? local = null)
{
    /// <summary>Public cloud, GCC, GCC High and DoD connector hosts.</summary>
    public static readonly IReadOnlyList<string> Defaults =
    [
        "smba.trafficmanager.net",
        "*.botframework.com",
        "smba.infra.gcc.teams.microsoft.com",
        "smba.infra.gov.teams.microsoft.us",
        "smba.infra.dod.teams.microsoft.us",
    ];

    private readonly IReadOnlyList<string> _patterns = options.Value.AllowedServiceUrls is { Count: > 0 } configured ? configured : Defaults;

    public bool IsAllowed(string? serviceUrl)
    {
        if (local?.IsLoopbackConnector(serviceUrl) == true)
        {
            return true;
        }
        if (!Uri.TryCreate(serviceUrl, UriKind.Absolute, out var uri) || !string.IsNullOrEmpty(uri.UserInfo))
        {
            return false;
        }
        return _patterns.Any(p => Matches(p.Trim(), uri));
    }

    internal static bool IsValidPattern(string pattern)
    {
        pattern = pattern.Trim();
        if (pattern.Contains("://", StringComparison.Ordinal))
        {
            return Uri.TryCreate(pattern, UriKind.Absolute, out var origin)
                && (origin.Scheme == Uri.UriSchemeHttps || origin.Scheme == Uri.UriSchemeHttp)
                && origin.AbsolutePath == "/";
        }
        var host = pattern.StartsWith("*.", StringComparison.Ordinal) ? pattern[2..] : pattern;
        return host.Length > 0 && Uri.CheckHostName(host) is UriHostNameType.Dns or UriHostNameType.IPv4;
    }

    private static bool Matches(string pattern, Uri uri)
    {
        if (pattern.Contains("://", StringComparison.Ordinal))
        {
            return Uri.TryCreate(pattern, UriKind.Absolute, out var origin)
                && string.Equals(origin.Scheme, uri.Scheme, StringComparison.OrdinalIgnoreCase)
                && string.Equals(origin.Host, uri.Host, StringComparison.OrdinalIgnoreCase)
                && origin.Port == uri.Port;
        }
        // Bare host patterns imply HTTPS on the default port: a bearer token never travels in clear text.
        if (uri.Scheme != Uri.UriSchemeHttps || !uri.IsDefaultPort)
        {
            return false;
        }
        return pattern.StartsWith("*.", StringComparison.Ordinal)
            ? uri.Host.EndsWith(pattern[1..], StringComparison.OrdinalIgnoreCase)
            : string.Equals(uri.Host, pattern, StringComparison.OrdinalIgnoreCase);
    }
}
