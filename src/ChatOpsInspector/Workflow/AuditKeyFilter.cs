using ChatOpsInspector.Ingest;
using ChatOpsInspector.Operations;
using Microsoft.Extensions.Options;

namespace ChatOpsInspector.Workflow;

/// <summary>
/// Admits audit export requests carrying <c>Audit:ApiKey</c>, compared in constant time. Without a key
/// configured the export does not exist (404 problem details); a wrong or missing key is 401 with no detail.
/// </summary>
internal sealed class AuditKeyFilter(IOptionsMonitor<AuditOptions> options) : IEndpointFilter
{
    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var expected = options.CurrentValue.ApiKey;
        if (string.IsNullOrEmpty(expected))
        {
            return ValueTask.FromResult<object?>(Results.Problem(
                statusCode: StatusCodes.Status404NotFound,
                title: "Audit export is off",
                detail: $"Set Audit:ApiKey to turn on GET {context.HttpContext.Request.Path}."));
        }
        if (ApiKeyFilter.PresentsKey(context.HttpContext.Request, expected))
        {
            return next(context);
        }
        AppMetrics.EventsRejected.WithLabels("audit_auth").Inc();
        return ValueTask.FromResult<object?>(Results.Unauthorized());
    }
}
