using ChatOpsInspector.Ingest;
using ChatOpsInspector.Operations;
using Microsoft.Extensions.Options;

namespace ChatOpsInspector.Slack;

/// <summary>
/// Verifies Slack's signature on the raw body before anything parses it, then that the request comes
/// from one of <see cref="SlackOptions.TeamIds"/>, and hands the verified bytes to the handler.
/// Refusals are 401 (signature) or 403 (workspace) with no detail; oversized bodies are 413.
/// </summary>
internal sealed partial class SlackRequestFilter(
    IOptionsMonitor<SlackOptions> options,
    TimeProvider time,
    ILogger<SlackRequestFilter> logger) : IEndpointFilter
{
    private const string BodyKey = "slack.body";

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (SlackSocketMode.IsSocketModeRequest(http))
        {
            // Arrived over the Socket Mode connection that the app token opened: there is no signature to check.
            return await next(context);
        }
        var settings = options.CurrentValue;
        var (body, tooLarge) = await RequestBody.ReadAsync(http, settings.MaxBodyBytes, http.RequestAborted);
        if (tooLarge)
        {
            AppMetrics.EventsRejected.WithLabels("slack_too_large").Inc();
            return Results.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Body too large");
        }
        var valid = SlackSignature.IsValid(
            settings.SigningSecret ?? "",
            http.Request.Headers[SlackSignature.TimestampHeader].ToString(),
            http.Request.Headers[SlackSignature.SignatureHeader].ToString(),
            body,
            time.GetUtcNow(),
            settings.SignatureTolerance);
        if (!valid)
        {
            AppMetrics.EventsRejected.WithLabels("slack_signature").Inc();
            LogRefused(http.Request.Path);
            return Results.Unauthorized();
        }
        if (SlackWorkspaces.Named(http.Request.Path.Value ?? "", body ?? []) is { } named
            && !SlackWorkspaces.IsAllowed(named.Teams, named.Enterprises, settings.TeamIds))
        {
            AppMetrics.EventsRejected.WithLabels("slack_workspace").Inc();
            LogForeignWorkspace(http.Request.Path, string.Join(",", named.Teams.Concat(named.Enterprises)));
            return Results.StatusCode(StatusCodes.Status403Forbidden);
        }
        http.Items[BodyKey] = body;
        return await next(context);
    }

    /// <summary>The verified raw body; only set once the signature checked out.</summary>
    public static byte[] VerifiedBody(HttpContext context) =>
        SlackSocketMode.SocketModeBody(context) ??
        context.Items[BodyKey] as byte[] ?? throw new InvalidOperationException("Slack endpoint mapped without SlackRequestFilter.");

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused Slack request to {Path} from workspace(s) {Teams} not in Slack:TeamIds")]
    private partial void LogForeignWorkspace(string path, string teams);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused unsigned or stale Slack request to {Path}")]
    private partial void LogRefused(string path);
}
