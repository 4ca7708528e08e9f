using System.Globalization;
using System.Text;
using ChatOpsInspector.Findings;

namespace ChatOpsInspector.Cards;

/// <summary>
/// Words for Inspector's enum values, so cards and replies say "EC2 instance" and "No fix yet" instead
/// of <c>AWS_EC2_INSTANCE</c> and <c>NO</c>. Values this list does not know are still made readable.
/// </summary>
internal static class CardWords
{
    public static string ResourceType(string type) => type switch
    {
        ResourceTypes.Ec2Instance => "EC2 instance",
        ResourceTypes.EcrContainerImage => "ECR image",
        ResourceTypes.EcrRepository => "ECR repository",
        ResourceTypes.LambdaFunction => "Lambda function",
        "AWS_LAMBDA_LAYER" => "Lambda layer",
        "CODE_REPOSITORY" => "Code repository",
        _ => Humanise(type),
    };

    public static string FindingStatus(FindingStatus status) => status switch
    {
        Findings.FindingStatus.Active => "Open",
        Findings.FindingStatus.Suppressed => "Suppressed",
        Findings.FindingStatus.Closed => "Fixed",
        _ => status.ToString(),
    };

    /// <summary>Inspector's <c>fixAvailable</c>: YES, NO or PARTIAL.</summary>
    public static string FixAvailable(string? value) => value?.ToUpperInvariant() switch
    {
        "YES" => "Fix available",
        "PARTIAL" => "Partial fix",
        _ => "No fix yet",
    };

    public static string FindingType(FindingType type) => type switch
    {
        Findings.FindingType.NetworkReachability => "Network exposure",
        Findings.FindingType.CodeVulnerability => "Code vulnerability",
        _ => "Package vulnerability",
    };

    /// <summary>Steps of a network path (<c>AWS::EC2::SecurityGroup</c>).</summary>
    public static string NetworkComponent(string componentType) => componentType switch
    {
        "AWS::EC2::InternetGateway" => "Internet gateway",
        "AWS::EC2::NetworkAcl" => "Network ACL",
        "AWS::EC2::SecurityGroup" => "Security group",
        "AWS::EC2::NetworkInterface" => "Network interface",
        "AWS::EC2::Instance" => "Instance",
        "AWS::EC2::Subnet" => "Subnet",
        "AWS::EC2::VPC" => "VPC",
        "AWS::EC2::VPCPeeringConnection" => "VPC peering",
        "AWS::EC2::VPNGateway" => "VPN gateway",
        "AWS::EC2::TransitGateway" => "Transit gateway",
        "AWS::ElasticLoadBalancingV2::LoadBalancer" or "AWS::ElasticLoadBalancing::LoadBalancer" => "Load balancer",
        _ => componentType.Split("::").LastOrDefault() is { Length: > 0 } last ? last : componentType,
    };

    /// <summary>Inspector's scan status reasons (coverage), e.g. <c>UNMANAGED_EC2_INSTANCE</c>.</summary>
    public static string CoverageReason(string reason) => reason switch
    {
        "UNMANAGED_EC2_INSTANCE" => "Not managed by SSM (no SSM Agent or instance role)",
        "UNSUPPORTED_OS" => "Operating system not supported",
        "UNSUPPORTED_RUNTIME" => "Runtime not supported",
        "PENDING_INITIAL_SCAN" => "Waiting for its first scan",
        "PENDING_REVIVAL_SCAN" => "Waiting to be scanned again",
        "ACCESS_DENIED" => "Inspector was denied access",
        "INTERNAL_ERROR" => "Inspector had an internal error",
        "EC2_INSTANCE_STOPPED" => "Instance stopped",
        "RESOURCE_TERMINATED" => "Resource terminated",
        "SCAN_ELIGIBILITY_EXPIRED" => "Image older than the rescan window",
        "NO_INVENTORY" => "No software inventory from SSM yet",
        "STALE_INVENTORY" => "SSM inventory out of date",
        "EXCLUDED_BY_TAG" => "Excluded by tag",
        "IMAGE_SIZE_EXCEEDED" => "Image too large to scan",
        "NO_RESOURCES_FOUND" => "Nothing to scan",
        "SCAN_FREQUENCY_MANUAL" => "Scans only on demand",
        "SCAN_FREQUENCY_SCAN_ON_PUSH" => "Scans only on push",
        _ => Humanise(reason),
    };

    /// <summary>Lambda runtimes as Inspector spells them: <c>PYTHON_3_11</c> → "Python 3.11".</summary>
    public static string Runtime(string runtime)
    {
        var parts = runtime.Split('_', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0)
        {
            return runtime;
        }
        var name = parts[0].ToUpperInvariant() switch
        {
            "NODEJS" => "Node.js",
            "PYTHON" => "Python",
            "JAVA" => "Java",
            "DOTNETCORE" or "DOTNET" => ".NET",
            "GO" => "Go",
            "RUBY" => "Ruby",
            _ => Humanise(parts[0]),
        };
        var version = string.Join('.', parts.Skip(1).Select(p => p.ToLowerInvariant()));
        return version.Length == 0 ? name : $"{name} {version}";
    }

    /// <summary><c>SOME_VALUE_EC2</c> → "Some value EC2": lower case words, known acronyms kept.</summary>
    public static string Humanise(string value)
    {
        if (string.IsNullOrEmpty(value) || !value.Any(char.IsUpper) || value.Any(char.IsLower))
        {
            return value;
        }
        var words = value.Split('_', StringSplitOptions.RemoveEmptyEntries)
            .Select(w => Acronyms.Contains(w) ? w : w.ToLowerInvariant())
            .ToArray();
        if (words.Length == 0)
        {
            return value;
        }
        var text = new StringBuilder(string.Join(' ', words));
        text[0] = char.ToUpper(text[0], CultureInfo.InvariantCulture);
        return text.ToString();
    }

    private static readonly HashSet<string> Acronyms =
        ["EC2", "ECR", "SSM", "OS", "AWS", "KMS", "IAM", "VPC", "ENI", "CVE", "CWE", "SBOM", "AMI", "ACL", "TCP", "UDP"];
}
