using System.Text.Json;
using ChatOpsInspector.Ingest;
using ChatOpsInspector.Operations;
using Microsoft.Extensions.Options;

namespace ChatOpsInspector.Teams;

/// <summary>
/// Guards <c>/api/messages</c>: a valid Bot Framework token whose <c>serviceurl</c> claim matches the
/// activity, a <c>msteams</c> activity signed by a key endorsed for Teams, and an allowed tenant. The parsed
/// activity is handed to the endpoint through <see cref="HttpContext.Items"/>.
/// </summary>
internal sealed class TeamsAuthFilter(BotTokenValidator validator, IOptions<TeamsOptions> options, LocalDevelopmentAuth localAuth) : IEndpointFilter
{
    private const string ActivityKey = "teams.activity";

    public static Activity ActivityOf(HttpContext context) => (Activity)context.Items[ActivityKey]!;

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var identity = localAuth.Identify(http) ?? await validator.ValidateAsync(http.Request.Headers.Authorization.ToString() is { Length: > 0 } a ? a : null, http.RequestAborted);
        if (identity is null)
        {
            return Refuse();
        }
        var (body, tooLarge) = await RequestBody.ReadAsync(http, options.Value.MaxBodyBytes, http.RequestAborted);
        if (tooLarge)
        {
            return Results.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Body too large",
                detail: $"Activities larger than Teams:MaxBodyBytes ({options.Value.MaxBodyBytes} bytes) are refused.");
        }
        Activity? activity;
        try
        {
            activity = body is { Length: > 0 } ? JsonSerializer.Deserialize(body, TeamsJson.Default.Activity) : null;
        }
        catch (JsonException)
        {
            activity = null;
        }
        if (activity?.Type is null)
        {
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid activity",
                detail: "The body must be a Bot Framework activity (a JSON object with a type).");
        }
        // Local development mode (no token, loopback only) vouches for its own loopback connector; everything
        // else must be what a Bot Framework token vouches for, from one of our tenants.
        var local = localAuth.Vouches(identity, activity.ServiceUrl);
        if (!local && !IsTrusted(identity, activity))
        {
            return Refuse();
        }
        if (!local && !IsAllowedTenant(activity, options.Value))
        {
            AppMetrics.EventsRejected.WithLabels("teams_tenant").Inc();
            return Results.StatusCode(StatusCodes.Status403Forbidden);
        }
        http.Items[ActivityKey] = activity;
        return await next(context);
    }

    private static IResult Refuse()
    {
        AppMetrics.EventsRejected.WithLabels("teams_auth").Inc();
        return Results.Unauthorized();
    }

    /// <summary>
    /// What the token vouches for must match the activity, as Bot Builder checks it: the connector
    /// endpoint it names, and a Teams activity signed by a key endorsed for Teams. Other Bot Framework
    /// channels (webchat, directline…) and activities that name no channel are not served here.
    /// </summary>
    internal static bool IsTrusted(BotIdentity identity, Activity activity) =>
        SameServiceUrl(identity.ServiceUrl, activity.ServiceUrl)
        && string.Equals(activity.ChannelId, TeamsOptions.TeamsChannel, StringComparison.Ordinal)
        && identity.Endorsements.Contains(TeamsOptions.TeamsChannel, StringComparer.OrdinalIgnoreCase);

    /// <summary>One tenant, named the same in both places Teams puts it, and one of ours.</summary>
    internal static bool IsAllowedTenant(Activity activity, TeamsOptions options)
    {
        var conversationTenant = activity.Conversation?.TenantId;
        var channelDataTenant = activity.ChannelData?.Tenant?.Id;
        if (conversationTenant is not null && channelDataTenant is not null
            && !string.Equals(conversationTenant, channelDataTenant, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        return options.IsAllowedTenant(conversationTenant ?? channelDataTenant);
    }

    internal static bool SameServiceUrl(string? claimed, string? actual) =>
        claimed is { Length: > 0 } && actual is { Length: > 0 }
        && string.Equals(claimed.TrimEnd('/'), actual.TrimEnd('/'), StringComparison.OrdinalIgnoreCase);
}
