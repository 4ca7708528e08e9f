namespace ChatOpsInspector.Aws;

/// <summary>
/// Where an AWS call for a finding goes: the finding's account and region. Null account means the
/// bot's own (delegated administrator) account.
/// </summary>
internal sealed record AwsTarget(string? AccountId, string Region)
{
    public override string ToString() => AccountId is null ? Region : $"{AccountId} {Region}";
}
