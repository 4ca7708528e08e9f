using ChatOpsInspector.Alerts;
using ChatOpsInspector.State;
using ChatOpsInspector.Workflow;

namespace ChatOpsInspector.Tests.Infrastructure;

/// <summary>
/// Requests and approvals answer at once and leave their AWS work (the SSM check, the start of a run)
/// to the remediation queue. Tests that look at what AWS received run those steps until the group has
/// settled, as the worker would a moment later.
/// </summary>
internal static class RemediationSteps
{
    public static bool Settled(AlertGroup? group) => group?.Workflow switch
    {
        { State: GroupState.PatchRequested, Patch.Checking: true } => false,
        { State: GroupState.Patching, Patch: { } p } => p.EffectiveBatches.All(b => b.CommandId is not null || b.Error is not null),
        _ => true,
    };

    public static Task SettleAsync(TestApp app, string groupId) =>
        TestApp.Eventually(async () =>
        {
            await app.Service<RemediationWorker>().RunDueAsync(default);
            return Settled(await app.Service<IAlertStore>().GetGroupAsync(groupId, default));
        }, "remediation steps of the request or approval ran");
}
