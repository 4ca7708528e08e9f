using Microsoft.Extensions.Options;

namespace ChatOpsInspector.Teams;

/// <summary>Section <c>Teams</c>: the Azure Bot registration and where its protocol endpoints live.</summary>
internal sealed class TeamsOptions
{
    public const string Section = "Teams";
    public const string BotFrameworkMetadataUrl = "https://login.botframework.com/v1/.well-known/openidconfiguration";
    public const string BotFrameworkIssuer = "https://api.botframework.com";
    public const string BotFrameworkScope = "https://api.botframework.com/.default";

    /// <summary>The only Bot Framework channel <c>/api/messages</c> serves.</summary>
    public const string TeamsChannel = "msteams";

    /// <summary>Microsoft App ID of the Azure Bot. Empty: Teams is off (inbound is refused, nothing is posted).</summary>
    public string? AppId { get; set; }

    /// <summary>Client secret of the app registration.</summary>
    public string? AppPassword { get; set; }

    /// <summary>
    /// The bot's own tenant: its activities are accepted, and a single-tenant bot gets its tokens from it.
    /// Empty: token authority botframework.com, and <see cref="AllowedTenants"/> must then name the tenants.
    /// </summary>
    public string? TenantId { get; set; }

    public string OpenIdMetadataUrl { get; set; } = BotFrameworkMetadataUrl;

    /// <summary>OAuth token endpoint override (proxies, tests). Empty: Microsoft Entra ID via MSAL.</summary>
    public string? TokenEndpoint { get; set; }

    /// <summary>
    /// Service URLs the bot may call with its token: host names, <c>*.suffix</c> wildcards (HTTPS only), or
    /// a full <c>scheme://host:port</c> origin. Empty: <see cref="ServiceUrlPolicy.Defaults"/>.
    /// </summary>
    public List<string> AllowedServiceUrls { get; set; } = [];

    /// <summary>Further tenant ids whose activities are accepted, besides <see cref="TenantId"/>. Never "any".</summary>
    public List<string> AllowedTenants { get; set; } = [];

    /// <summary>Every tenant whose people may talk to the bot: <see cref="TenantId"/> plus <see cref="AllowedTenants"/>.</summary>
    public HashSet<string> Tenants() => new[] { TenantId }.Concat(AllowedTenants)
        .Where(t => !string.IsNullOrWhiteSpace(t)).Select(t => t!.Trim())
        .ToHashSet(StringComparer.OrdinalIgnoreCase);

    public bool IsAllowedTenant(string? tenant) => tenant is { Length: > 0 } && Tenants().Contains(tenant);

    /// <summary>Tolerance for clock differences when checking token lifetimes; at most 5 minutes.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromMinutes(5);

    public long MaxBodyBytes { get; set; } = 256 * 1024;

    /// <summary>How long a roster answer (name, Entra object id of a person named by id or e-mail) is kept in the store.</summary>
    public TimeSpan PeopleCacheTtl { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// Development only, with <see cref="AppId"/> empty: accept activities without a token from loopback
    /// callers and answer their loopback connector without one (Agents Playground). Refused at start elsewhere.
    /// </summary>
    public bool LocalDevelopment { get; set; }

    public bool IsConfigured => !string.IsNullOrWhiteSpace(AppId);
}

internal sealed class TeamsOptionsValidator : IValidateOptions<TeamsOptions>
{
    public ValidateOptionsResult Validate(string? name, TeamsOptions options)
    {
        if (!options.IsConfigured)
        {
            return ValidateOptionsResult.Success;
        }
        var errors = new List<string>();
        if (options.PeopleCacheTtl <= TimeSpan.Zero)
        {
            errors.Add("Teams:PeopleCacheTtl must be positive.");
        }
        if (string.IsNullOrWhiteSpace(options.AppPassword))
        {
            errors.Add("Teams:AppPassword is required when Teams:AppId is set.");
        }
        if (options.Tenants().Count == 0)
        {
            errors.Add("Teams:TenantId is required when Teams:AppId is set: the bot's own Entra tenant (list partner tenants in Teams:AllowedTenants). Activities from any tenant are never accepted.");
        }
        foreach (var tenant in options.Tenants().Where(t => !Guid.TryParse(t, out _)))
        {
            errors.Add($"Teams:TenantId / Teams:AllowedTenants entry '{tenant}' is not a tenant id (a GUID).");
        }
        if (!IsSafeEndpoint(options.OpenIdMetadataUrl))
        {
            errors.Add("Teams:OpenIdMetadataUrl must be an https URL (http only on 127.0.0.1/localhost).");
        }
        if (!string.IsNullOrWhiteSpace(options.TokenEndpoint) && !IsSafeEndpoint(options.TokenEndpoint))
        {
            errors.Add("Teams:TokenEndpoint must be an https URL (http only on 127.0.0.1/localhost).");
        }
        if (options.ClockSkew < TimeSpan.Zero || options.ClockSkew > TimeSpan.FromMinutes(5))
        {
            errors.Add("Teams:ClockSkew must be between 0 and 00:05:00.");
        }
        if (options.MaxBodyBytes <= 0)
        {
            errors.Add("Teams:MaxBodyBytes must be positive.");
        }
        foreach (var pattern in options.AllowedServiceUrls.Where(p => !ServiceUrlPolicy.IsValidPattern(p)))
        {
            errors.Add($"Teams:AllowedServiceUrls entry '{pattern}' is neither a host name, a *.suffix wildcard nor a scheme://host[:port] origin.");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    internal static bool IsSafeEndpoint(string? url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback));
}
