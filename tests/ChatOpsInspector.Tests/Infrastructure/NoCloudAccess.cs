using System.Runtime.CompilerServices;

namespace ChatOpsInspector.Tests.Infrastructure;

/// <summary>
/// Tests reach nothing but loopback: the AWS SDK must not probe the EC2 instance-metadata address
/// while resolving credentials, whatever a test triggers.
/// </summary>
internal static class NoCloudAccess
{
    [ModuleInitializer]
    internal static void Initialize() => Environment.SetEnvironmentVariable("AWS_EC2_METADATA_DISABLED", "true");
}
