using System.Text.Json;
using ChatOpsInspector.Ingest;
using ChatOpsInspector.Operations;
using Microsoft.Extensions.Options;

namespace ChatOpsInspector.Teams;

/// <summary>
/// Guards <c>/api/messages</c>: a valid Bot Framework token whose <c>serviceurl</c> claim matches the
/// activity, a signing key endorsed for the activity's channel, and an allowed tenant. The parsed
/// activity is handed to the endpoint through <see cref="HttpContext.Items"/>.
/// </summary>
internal sealed class TeamsAuthFilter(BotTokenValidator validator, IOptions<TeamsOptions> options, LocalDevelopmentAuth local) : IEndpointFilter
{
    private const string ActivityKey = "teams.activity";

    public static Activity ActivityOf(HttpContext context) => (Activity)context.Items[ActivityKey]!;

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var identity = local.Identify(http) ?? await validator.ValidateAsync(http.Request.Headers.Authorization.ToString() is { Length: > 0 } a ? a : null, http.RequestAborted);
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
        // The token vouches for one connector endpoint; an activity naming another one is not what was signed for.
        if (!SameServiceUrl(identity.ServiceUrl, activity.ServiceUrl) && !local.Vouches(identity, activity.ServiceUrl))
        {
            return Refuse();
        }
        if (identity.Endorsements is { } endorsed && activity.ChannelId is { Length: > 0 } channel
            && !endorsed.Contains(channel, StringComparer.OrdinalIgnoreCase))
        {
            return Refuse();
        }
        var tenants = options.Value.AllowedTenants;
        if (tenants.Count > 0 && (activity.TenantId is not { } tenant || !tenants.Contains(tenant, StringComparer.OrdinalIgnoreCase)))
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

    internal static bool SameServiceUrl(string? claimed, string? actual) =>
        claimed is { Length: > 0 } && actual is { Length: > 0 }
        && string.Equals(claimed.TrimEnd('/'), actual.TrimEnd('/'), StringComparison.OrdinalIgnoreCase);
}
