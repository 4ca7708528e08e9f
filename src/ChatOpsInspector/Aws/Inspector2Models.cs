using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ChatOpsInspector.Aws;

// Wire shapes of the Inspector2 REST/JSON API (2020-06-08). Property names are the API's camelCase
// names; absent values are left out of request bodies, unknown response fields are ignored.

/// <summary>One entry of a string filter list; entries for the same field are OR-ed, fields are AND-ed.</summary>
internal sealed record StringFilter(string Comparison, string Value)
{
    public const string EqualsComparison = "EQUALS";
    public const string PrefixComparison = "PREFIX";
    public const string NotEqualsComparison = "NOT_EQUALS";

    public static StringFilter EqualTo(string value) => new(EqualsComparison, value);

    public static StringFilter NotEqualTo(string value) => new(NotEqualsComparison, value);

    public static StringFilter StartsWith(string value) => new(PrefixComparison, value);
}

internal sealed record MapFilter(string Comparison, string Key, string? Value)
{
    public static MapFilter EqualTo(string key, string? value) => new(StringFilter.EqualsComparison, key, value);
}

/// <summary>Inspector2 <c>PortRangeFilter</c>: an open port range of a network reachability finding.</summary>
internal sealed record PortRangeFilter(int? BeginInclusive, int? EndInclusive);

/// <summary>Inspector2 <c>FilterCriteria</c>, limited to the fields this bot filters and suppresses on.</summary>
internal sealed record FindingFilterCriteria
{
    public IReadOnlyList<StringFilter>? FindingArn { get; init; }

    public IReadOnlyList<StringFilter>? AwsAccountId { get; init; }

    public IReadOnlyList<StringFilter>? FindingStatus { get; init; }

    public IReadOnlyList<StringFilter>? FindingType { get; init; }

    public IReadOnlyList<StringFilter>? Severity { get; init; }

    public IReadOnlyList<StringFilter>? ResourceId { get; init; }

    public IReadOnlyList<StringFilter>? ResourceType { get; init; }

    public IReadOnlyList<MapFilter>? ResourceTags { get; init; }

    public IReadOnlyList<StringFilter>? VulnerabilityId { get; init; }

    public IReadOnlyList<StringFilter>? EcrImageRepositoryName { get; init; }

    public IReadOnlyList<StringFilter>? LambdaFunctionName { get; init; }

    public IReadOnlyList<StringFilter>? NetworkProtocol { get; init; }

    public IReadOnlyList<PortRangeFilter>? PortRange { get; init; }

    public IReadOnlyList<StringFilter>? CodeVulnerabilityDetectorName { get; init; }

    public IReadOnlyList<StringFilter>? CodeVulnerabilityFilePath { get; init; }

    /// <summary>Every criteria list of the API model holds 1 to 10 entries (<c>StringFilterList</c>, <c>MapFilterList</c>, <c>PortRangeFilterList</c>: max 10).</summary>
    public const int MaxListEntries = 10;

    private IReadOnlyCollection<object>?[] Lists() =>
    [
        FindingArn, AwsAccountId, FindingStatus, FindingType, Severity, ResourceId, ResourceType,
        ResourceTags, VulnerabilityId, EcrImageRepositoryName, LambdaFunctionName,
        NetworkProtocol, PortRange, CodeVulnerabilityDetectorName, CodeVulnerabilityFilePath,
    ];

    [JsonIgnore]
    public bool IsEmpty => Lists().All(list => list is null || list.Count == 0);

    /// <summary>A list the API would refuse: empty where present, or longer than <see cref="MaxListEntries"/>.</summary>
    [JsonIgnore]
    public bool ExceedsListLimits => Lists().Any(list => list is not null && list.Count is 0 or > MaxListEntries);
}

internal sealed record SortCriteria(string Field, string SortOrder);

internal sealed record ListFindingsRequest
{
    public FindingFilterCriteria? FilterCriteria { get; init; }

    public int? MaxResults { get; init; }

    public string? NextToken { get; init; }

    public SortCriteria? SortCriteria { get; init; }
}

internal static class FilterAction
{
    public const string Suppress = "SUPPRESS";
    public const string None = "NONE";
}

internal sealed record CreateFilterRequest
{
    public required string Name { get; init; }

    public string Action { get; init; } = FilterAction.Suppress;

    public string? Description { get; init; }

    public string? Reason { get; init; }

    public required FindingFilterCriteria FilterCriteria { get; init; }

    public IReadOnlyDictionary<string, string>? Tags { get; init; }
}

internal sealed record DeleteFilterRequest(string Arn);

internal sealed record ListFiltersRequest
{
    public string? Action { get; init; }

    public IReadOnlyList<string>? Arns { get; init; }

    public int? MaxResults { get; init; }

    public string? NextToken { get; init; }
}

internal sealed record CoverageStringFilter(string Comparison, string Value)
{
    public static CoverageStringFilter EqualTo(string value) => new(StringFilter.EqualsComparison, value);

    public static CoverageStringFilter NotEqualTo(string value) => new(StringFilter.NotEqualsComparison, value);
}

internal sealed record CoverageFilterCriteria
{
    public IReadOnlyList<CoverageStringFilter>? AccountId { get; init; }

    public IReadOnlyList<CoverageStringFilter>? ResourceId { get; init; }

    public IReadOnlyList<CoverageStringFilter>? ResourceType { get; init; }

    public IReadOnlyList<CoverageStringFilter>? ScanStatusCode { get; init; }

    public IReadOnlyList<CoverageStringFilter>? ScanStatusReason { get; init; }

    public IReadOnlyList<CoverageStringFilter>? ScanType { get; init; }

    public IReadOnlyList<CoverageStringFilter>? EcrRepositoryName { get; init; }

    public IReadOnlyList<CoverageStringFilter>? LambdaFunctionName { get; init; }
}

internal sealed record ListCoverageRequest
{
    public CoverageFilterCriteria? FilterCriteria { get; init; }

    public int? MaxResults { get; init; }

    public string? NextToken { get; init; }
}

/// <summary>One page of a list operation, with the AWS request id that produced it.</summary>
internal sealed record Inspector2Page<T>(IReadOnlyList<T> Items, string? NextToken, string? RequestId)
{
    public bool HasMore => !string.IsNullOrEmpty(NextToken);
}

/// <summary>The ARN a filter operation acted on, with the AWS request id for the audit.</summary>
internal sealed record FilterOperationResult(string Arn, string? RequestId);

internal sealed record Inspector2Finding
{
    public string FindingArn { get; init; } = "";

    public string? AwsAccountId { get; init; }

    public string? Type { get; init; }

    public string? Title { get; init; }

    public string? Description { get; init; }

    public string Severity { get; init; } = "";

    public string Status { get; init; } = "";

    public double? InspectorScore { get; init; }

    public DateTimeOffset? FirstObservedAt { get; init; }

    public DateTimeOffset? LastObservedAt { get; init; }

    public DateTimeOffset? UpdatedAt { get; init; }

    public string? FixAvailable { get; init; }

    public string? ExploitAvailable { get; init; }

    public EpssDetails? Epss { get; init; }

    public IReadOnlyList<Inspector2Resource> Resources { get; init; } = [];

    public PackageVulnerabilityDetails? PackageVulnerabilityDetails { get; init; }

    [JsonIgnore]
    public string? VulnerabilityId => PackageVulnerabilityDetails?.VulnerabilityId;

    [JsonIgnore]
    public IEnumerable<string> ResourceIds => Resources.Select(r => r.Id);
}

internal sealed record EpssDetails(double? Score);

internal sealed record Inspector2Resource
{
    public string Type { get; init; } = "";

    public string Id { get; init; } = "";

    public string? Partition { get; init; }

    public string? Region { get; init; }

    public IReadOnlyDictionary<string, string>? Tags { get; init; }
}

internal sealed record PackageVulnerabilityDetails
{
    public string VulnerabilityId { get; init; } = "";

    public string? Source { get; init; }

    public string? SourceUrl { get; init; }

    public string? VendorSeverity { get; init; }

    public IReadOnlyList<VulnerablePackage> VulnerablePackages { get; init; } = [];
}

internal sealed record VulnerablePackage
{
    public string Name { get; init; } = "";

    public string? Version { get; init; }

    public string? FixedInVersion { get; init; }

    public string? PackageManager { get; init; }

    public string? Remediation { get; init; }
}

internal sealed record Inspector2Filter
{
    public string Arn { get; init; } = "";

    public string Name { get; init; } = "";

    public string Action { get; init; } = "";

    public string? OwnerId { get; init; }

    public string? Description { get; init; }

    public string? Reason { get; init; }

    public FindingFilterCriteria? Criteria { get; init; }

    public DateTimeOffset? CreatedAt { get; init; }

    public DateTimeOffset? UpdatedAt { get; init; }

    public IReadOnlyDictionary<string, string>? Tags { get; init; }
}

internal sealed record CoveredResource
{
    public string ResourceId { get; init; } = "";

    public string ResourceType { get; init; } = "";

    public string AccountId { get; init; } = "";

    public string? ScanType { get; init; }

    public string? ScanMode { get; init; }

    public ScanStatus? ScanStatus { get; init; }

    public ResourceScanMetadata? ResourceMetadata { get; init; }

    public DateTimeOffset? LastScannedAt { get; init; }
}

internal sealed record ScanStatus(string StatusCode, string Reason);

internal sealed record ResourceScanMetadata
{
    public Ec2Metadata? Ec2 { get; init; }

    public EcrRepositoryMetadata? EcrRepository { get; init; }

    public LambdaFunctionMetadata? LambdaFunction { get; init; }
}

internal sealed record Ec2Metadata
{
    public string? AmiId { get; init; }

    public string? Platform { get; init; }

    public IReadOnlyDictionary<string, string>? Tags { get; init; }
}

internal sealed record EcrRepositoryMetadata
{
    public string? Name { get; init; }

    public string? ScanFrequency { get; init; }
}

internal sealed record LambdaFunctionMetadata
{
    public string? FunctionName { get; init; }

    public string? Runtime { get; init; }
}

internal sealed record ListFindingsResponse(IReadOnlyList<Inspector2Finding>? Findings, string? NextToken);

internal sealed record ArnResponse(string? Arn);

internal sealed record ListFiltersResponse(IReadOnlyList<Inspector2Filter>? Filters, string? NextToken);

internal sealed record ListCoverageResponse(IReadOnlyList<CoveredResource>? CoveredResources, string? NextToken);

/// <summary>
/// AWS timestamps: the REST/JSON wire format is epoch seconds (a number, possibly fractional), while
/// the CLI and documentation samples show ISO-8601 strings. Both are accepted.
/// </summary>
internal sealed class AwsTimestampConverter : JsonConverter<DateTimeOffset>
{
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType switch
        {
            JsonTokenType.Number => DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Round(reader.GetDouble() * 1000)),
            JsonTokenType.String when DateTimeOffset.TryParse(
                reader.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed) => parsed,
            _ => throw new JsonException("Expected an AWS timestamp (epoch seconds or ISO-8601)."),
        };

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
        writer.WriteNumberValue(value.ToUnixTimeMilliseconds() / 1000d);
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    Converters = [typeof(AwsTimestampConverter)])]
[JsonSerializable(typeof(ListFindingsRequest))]
[JsonSerializable(typeof(ListFindingsResponse))]
[JsonSerializable(typeof(CreateFilterRequest))]
[JsonSerializable(typeof(DeleteFilterRequest))]
[JsonSerializable(typeof(ArnResponse))]
[JsonSerializable(typeof(ListFiltersRequest))]
[JsonSerializable(typeof(ListFiltersResponse))]
[JsonSerializable(typeof(ListCoverageRequest))]
[JsonSerializable(typeof(ListCoverageResponse))]
internal sealed partial class Inspector2JsonContext : JsonSerializerContext;
