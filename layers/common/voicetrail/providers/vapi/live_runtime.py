"""The live features plugged into VapiWebhookService: responders, one observer, a content policy.

    responders      assistant-request, tool-calls, function-call (legacy: the same tools),
                    transfer-destination-request, handoff-destination-request, call.endpointing.request
                    (always HTTP 200)
    observer        user transcripts -> escalation, consent; call end -> forget caches.
                    Only for calls voicetrail owns: an observed call is never spoken into.
    content_policy  owner: caller content is kept only with consent (or when the config does not require
                    it); observer: the number's `observer_policy` (voicetrail.domain.live.config)

Nothing here raises into the webhook: a failure becomes a metric, a fixed log line and, where Vapi
waits for an answer, an `{"error": ...}` / error result that Vapi speaks or hands to the model.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools import Logger

from voicetrail.domain.audit.trail import AuditKind
from voicetrail.domain.calls.ports import PutOutcome
from voicetrail.domain.live.assistant import RECORD_CONSENT_TOOL, build_assistant
from voicetrail.domain.live.config import (
    BrokenConfigError,
    ConfigResolver,
    ConfigUnavailableError,
    LiveConfig,
    ResolvedConfig,
    builtin_default,
)
from voicetrail.domain.live.consent_flow import (
    TERMINAL,
    ConsentOutcome,
    ConsentService,
    Decision,
    classify_utterance,
)
from voicetrail.domain.live.destinations import destination
from voicetrail.domain.live.escalation import EscalationService
from voicetrail.domain.live.store import AuditSink, ConsentState, LiveStore
from voicetrail.infra.observability import MetricsRecorder
from voicetrail.providers.vapi.idempotency import digest
from voicetrail.providers.vapi.live_tools import ParsedCall, ToolHandler, ToolRunner
from voicetrail.providers.vapi.messages import (
    FINAL_TRANSCRIPT_TYPE,
    FunctionCall,
    ParsedMessage,
    StatusUpdate,
    ToolCall,
    ToolCallFunction,
    ToolCalls,
    Transcript,
    VapiMessage,
)
from voicetrail.providers.vapi.replies import NO_HANDOFF
from voicetrail.providers.vapi.service import Processed, Responder
from voicetrail.providers.vapi.topology import CallRole

# Reports a call outcome decided live (consent, escalation): see voicetrail.providers.vapi.live_outcomes.
OutcomeSink = Callable[..., None]

NO_DESTINATION = "Sorry, there is no one available to take this call right now."


def _control_url(message: VapiMessage) -> str | None:
    monitor = message.call.monitor if message.call else None
    return monitor.controlUrl if monitor and monitor.controlUrl else None


class LiveCallFeatures:
    def __init__(
        self,
        *,
        configs: ConfigResolver,
        store: LiveStore,
        audit: AuditSink,
        consent: ConsentService,
        escalation: EscalationService,
        metrics: MetricsRecorder,
        logger: Logger,
        clock: Callable[[], float],
        outcomes: OutcomeSink | None = None,
    ) -> None:
        self._outcomes = outcomes
        self._configs = configs
        self._store = store
        self._audit = audit
        self._consent = consent
        self._escalation = escalation
        self._metrics = metrics
        self._log = logger
        self._clock = clock
        self.tools = ToolRunner(store, clock=clock)

    # -- wiring ----------------------------------------------------------------------------------
    def responders(self) -> Mapping[str, Responder]:
        return {
            "assistant-request": self.assistant_request,
            "tool-calls": self.tool_calls,
            "function-call": self.function_call,
            "transfer-destination-request": self.transfer_destination_request,
            "handoff-destination-request": self.handoff_destination_request,
            "call.endpointing.request": self.endpointing_request,
        }

    def config_for(self, message: VapiMessage) -> LiveConfig:
        return self.resolved_config_for(message).config

    def resolved_config_for(self, message: VapiMessage) -> ResolvedConfig:
        call = message.call
        return self._configs.resolve(call.phoneNumberId if call else None, call.assistantId if call else None)

    # -- content policy ----------------------------------------------------------------------------
    def content_policy(self, parsed: ParsedMessage, role: CallRole = CallRole.OWNER) -> bool:
        """Whether this message's caller content may be kept (whatever its type: the sanitizer finds it)."""
        call_id = parsed.message.call_id
        if not call_id:
            return True  # no call, no consent to ask for (numbers are hashed anyway)
        try:
            config = self.config_for(parsed.message)
            if role is CallRole.OBSERVER:
                return _observer_keeps(config, parsed.raw)
            return self._consent.keeps_content(call_id, config)
        except Exception as exc:
            # Fail closed: when we cannot tell, caller content is not kept (metadata still is).
            self._failed("content_policy", exc)
            return False

    # -- assistant-request -----------------------------------------------------------------------
    def assistant_request(self, processed: Processed) -> Mapping[str, Any]:
        message = processed.parsed.message
        try:
            config = self.config_for(message)
        except (BrokenConfigError, ConfigUnavailableError) as exc:
            self._metrics.count("AssistantRequestError", source="vapi", reason=type(exc).__name__)
            self._log.warning(
                "assistant-request answered with an error", extra={"reason": type(exc).__name__}
            )
            return {"error": builtin_default().error_message}
        except Exception as exc:
            self._failed("assistant_request", exc)
            return {"error": builtin_default().error_message}
        returning = False
        call_id = message.call_id
        try:
            caller_hash = processed.event.caller_hash
            if config.consent_required and config.reuse_prior_consent and caller_hash:
                returning = self._consent.prior_consent(caller_hash, config)
            if call_id and config.consent_required and processed.outcome is PutOutcome.STORED:
                self._consent.start(call_id, config, returning=returning)
        except Exception as exc:  # the call goes on; the state machine starts at "asked" anyway
            self._failed("consent_start", exc)
        return {"assistant": build_assistant(config, returning_caller_consented=returning)}

    # -- transfer-destination-request ------------------------------------------------------------
    def transfer_destination_request(self, processed: Processed) -> Mapping[str, Any]:
        message = processed.parsed.message
        try:
            config = self.config_for(message)
        except Exception as exc:
            self._failed("transfer_destination", exc)
            return {"error": NO_DESTINATION}
        if config.transfer is None:
            self._metrics.count("TransferDestination", source="vapi", outcome="none_configured")
            return {"error": NO_DESTINATION}
        call_id = message.call_id
        if call_id and processed.outcome is PutOutcome.STORED:
            try:
                details: dict[str, int | str] = {
                    "trigger": "transfer_destination_request",
                    "destination_type": config.transfer.type,
                    "mode": config.transfer.mode,
                }
                self._audit.append(call_id, AuditKind.TRANSFER, details, self._clock())
            except Exception as exc:
                self._failed("transfer_audit", exc)
        self._metrics.count("TransferDestination", source="vapi", outcome="answered")
        return {"destination": destination(config.transfer)}

    # -- handoff-destination-request / call.endpointing.request -----------------------------------
    def handoff_destination_request(self, processed: Processed) -> Mapping[str, Any]:
        try:
            config = self.config_for(processed.parsed.message)
        except Exception as exc:
            self._failed("handoff_destination", exc)
            config = None
        if config is None or config.handoff is None:
            self._metrics.count("HandoffDestination", source="vapi", outcome="none_configured")
            return {"destination": {}, "error": NO_HANDOFF}
        target = config.handoff
        destination: dict[str, Any] = {"type": "assistant"}
        if target.assistant_name:
            destination["assistantName"] = target.assistant_name
        if target.assistant_id:
            destination["assistantId"] = target.assistant_id
        if target.description:
            destination["description"] = target.description
        self._metrics.count("HandoffDestination", source="vapi", outcome="answered")
        return {"destination": destination}

    def endpointing_request(self, processed: Processed) -> Mapping[str, Any]:
        try:
            seconds = self.config_for(processed.parsed.message).endpointing_seconds
        except Exception as exc:
            self._failed("endpointing", exc)
            seconds = builtin_default().endpointing_seconds
        return {"timeoutSeconds": seconds}

    # -- function-call (legacy) ------------------------------------------------------------------
    def function_call(self, processed: Processed) -> Mapping[str, Any]:
        """The legacy `function-call`: run as one tool call through the same tools as `tool-calls`.
        Its id derives from the event's key, so a resend gets the first delivery's persisted result."""
        message = processed.parsed.message
        body = message.functionCall if isinstance(message, FunctionCall) else None
        call = ToolCall(
            id="fc-" + digest(processed.event.event_key),
            function=ToolCallFunction(
                name=body.name if body else None, arguments=body.parameters if body else None
            ),
        )
        [result] = self._run_tools(processed, [call])
        return {"result": result.get("result", result.get("error", ""))}

    # -- tool-calls ------------------------------------------------------------------------------
    def tool_calls(self, processed: Processed) -> Mapping[str, Any]:
        message = processed.parsed.message
        calls = message.toolCallList if isinstance(message, ToolCalls) else []
        results = self._run_tools(processed, list(calls))
        self._metrics.count("ToolCalls", value=len(results), source="vapi")
        return {"results": results}

    def _run_tools(self, processed: Processed, calls: list[ToolCall]) -> list[dict[str, str]]:
        message = processed.parsed.message
        call_id = message.call_id or "no-call"
        handlers: dict[str, ToolHandler] = {
            RECORD_CONSENT_TOOL: lambda call: self._record_consent(processed, call),
        }
        try:
            return self.tools.run(
                call_id, calls, duplicate=processed.outcome is PutOutcome.DUPLICATE, handlers=handlers
            )
        except Exception as exc:
            self._failed("tool_calls", exc)
            return [
                {
                    "name": (c.function.name if c.function else None) or c.name or "unknown",
                    "toolCallId": c.id or "",
                    "error": "The tool failed.",
                }
                for c in calls
            ]

    def _record_consent(self, processed: Processed, call: ParsedCall) -> tuple[str, bool]:
        if not processed.parsed.message.call_id:
            return "No call to record consent for.", True
        message = processed.parsed.message
        decision = _decision_from_arguments(call.arguments)
        if decision is None:
            return "Missing decision: use granted, denied or unclear.", True
        if decision == "unclear":
            # The model is already talking to the caller: it re-asks; no Live Call Control message.
            return "Consent not given yet. Ask the caller again whether the call may be recorded.", False
        config = self.config_for(message)
        outcome = self._consent.decide(
            str(message.call_id),
            decision,
            config,
            source="tool",
            control_url=_control_url(message),
            caller_hash=processed.event.caller_hash,
        )
        self._report_consent(message, outcome)
        if outcome.state is ConsentState.GRANTED:
            return "Consent recorded: granted. Continue the conversation.", False
        if outcome.state is ConsentState.DENIED:
            if config.consent_policy == "continue":
                return "Consent recorded: denied. Continue without recording details.", False
            return "Consent recorded: denied. The call is being closed.", False
        return f"Consent state: {outcome.state.value}.", False

    # -- observer ----------------------------------------------------------------------------------
    def observe(self, processed: Processed) -> None:
        try:
            self._observe(processed)
        except Exception as exc:
            self._failed("observer", exc)

    def _observe(self, processed: Processed) -> None:
        message = processed.parsed.message
        call_id = message.call_id
        if not call_id:
            return
        if (isinstance(message, StatusUpdate) and message.status == "ended") or (
            message.type == "end-of-call-report"
        ):
            self._consent.forget(call_id)
            return
        if processed.role is CallRole.OBSERVER:
            return  # not our assistant: never speak into the call (no consent re-asks, no escalation)
        if not isinstance(message, Transcript) or message.role != "user":
            return
        if processed.outcome is PutOutcome.DUPLICATE:
            return  # the first delivery acted on it
        resolved = self.resolved_config_for(message)
        config = resolved.config
        is_final = message.transcriptType == "final" or message.type == FINAL_TRANSCRIPT_TYPE
        control_url = _control_url(message)
        outcome = self._escalation.on_user_transcript(
            call_id,
            message.transcript,
            confidence=message.confidence,
            transcript_type="final" if is_final else "partial",
            timestamp_ms=message.timestamp,
            control_url=control_url,
            config=config,
            config_key=resolved.key,
        )
        if outcome.result == "transferred" and self._outcomes is not None:
            self._outcomes(message, escalated=True)
        if outcome.result in ("transferred", "debounced", "already_escalated"):
            return  # a human takes over: the transcript is not a consent answer
        if not (is_final and config.consent_required and message.transcript):
            return
        current = self._consent.current(call_id)
        if current is not None and current.state in (ConsentState.GRANTED, ConsentState.DENIED):
            return
        decided = self._consent.decide(
            call_id,
            classify_utterance(message.transcript),
            config,
            source="transcript",
            control_url=control_url,
            caller_hash=processed.event.caller_hash,
        )
        self._report_consent(message, decided)

    def _report_consent(self, message: VapiMessage, outcome: ConsentOutcome) -> None:
        # Only a change into a final state is reported, so the report and metrics count each call once.
        if self._outcomes is not None and outcome.changed and outcome.state in TERMINAL:
            self._outcomes(message, consent=outcome.state.value)

    def _failed(self, where: str, exc: Exception) -> None:
        self._metrics.count("LiveFeatureError", source="vapi", where=where)
        self._log.error("live feature failed", extra={"where": where, "error_type": type(exc).__name__})


def _observer_keeps(config: LiveConfig, raw: Mapping[str, Any]) -> bool:
    if config.observer_policy == "store-redacted":
        return True
    if config.observer_policy == "withhold":
        return False
    return vapi_consent_granted(raw)


def vapi_consent_granted(raw: Mapping[str, Any]) -> bool:
    """Vapi's own consent evidence: `compliance.recordingConsent.grantedAt`, on the message or its call."""
    call = raw.get("call")
    for holder in (raw, call if isinstance(call, Mapping) else {}):
        compliance = holder.get("compliance")
        consent = compliance.get("recordingConsent") if isinstance(compliance, Mapping) else None
        if (
            isinstance(consent, Mapping)
            and isinstance(consent.get("grantedAt"), str)
            and consent["grantedAt"]
        ):
            return True
    return False


def _decision_from_arguments(arguments: Mapping[str, Any]) -> Decision | None:
    value = arguments.get("decision", arguments.get("consent"))
    if isinstance(value, bool):
        return "granted" if value else "denied"
    granted = arguments.get("granted")
    if isinstance(granted, bool):
        return "granted" if granted else "denied"
    if isinstance(value, str) and value.lower() in ("granted", "denied", "unclear"):
        return value.lower()  # type: ignore[return-value]
    if isinstance(value, str):
        return classify_utterance(value)
    return None
