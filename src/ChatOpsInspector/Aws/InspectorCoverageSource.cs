using ChatOpsInspector.Commands;
using ChatOpsInspector.Findings;
using ChatOpsInspector.Routing;

namespace ChatOpsInspector.Aws;

/// <summary>
/// <c>/vulns coverage</c> from Inspector2 ListCoverage: resources Inspector cannot scan (status INACTIVE)
/// and why, e.g. an EC2 instance without a running SSM agent. Each resource is routed with the same rules
/// as findings, so an owner sees its own gaps. Configured once <c>Aws:Region</c> is set explicitly.
/// </summary>
internal sealed partial class InspectorCoverageSource(
    IInspector2Client inspector,
    FindingRouter router,
    IConfiguration configuration,
    ILogger<InspectorCoverageSource> logger) : ICoverageSource
{
    public const int MaxResources = 5000;

    public bool IsConfigured => !string.IsNullOrWhiteSpace(configuration["Aws:Region"]);

    public async Task<IReadOnlyList<CoverageGap>> GapsAsync(string? owner, CancellationToken cancellationToken)
    {
        var gaps = new List<CoverageGap>();
        var request = new ListCoverageRequest
        {
            FilterCriteria = new CoverageFilterCriteria { ScanStatusCode = [new CoverageStringFilter("EQUALS", "INACTIVE")] },
            MaxResults = 200,
        };
        var seen = 0;
        await foreach (var page in inspector.ListAllCoverageAsync(request, cancellationToken))
        {
            foreach (var resource in page.Items)
            {
                if (++seen > MaxResources)
                {
                    LogTruncated(MaxResources);
                    return gaps;
                }
                if (owner is null || string.Equals(OwnerOf(resource), owner, StringComparison.OrdinalIgnoreCase))
                {
                    gaps.Add(new CoverageGap(resource.ResourceType, resource.ResourceId, resource.AccountId,
                        resource.ScanStatus?.Reason ?? resource.ScanStatus?.StatusCode ?? "unknown"));
                }
            }
        }
        return gaps;
    }

    private string OwnerOf(CoveredResource resource)
    {
        var metadata = resource.ResourceMetadata;
        var asResource = new FindingResource
        {
            Type = resource.ResourceType,
            Id = resource.ResourceId,
            Region = configuration["Aws:Region"] ?? "",
            Tags = metadata?.Ec2?.Tags ?? new Dictionary<string, string>(),
            EcrRepository = metadata?.EcrRepository?.Name,
            LambdaFunction = metadata?.LambdaFunction?.FunctionName,
        };
        return router.Route(resource.AccountId, [asResource]).Owner;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Coverage listing stopped after {Max} resources")]
    private partial void LogTruncated(int max);
}
