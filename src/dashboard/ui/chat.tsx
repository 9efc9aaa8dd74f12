import { useState } from 'preact/hooks';
import type { ArmResource } from '../api.js';
import { api, chat, type ChatResult } from './client.js';
import { modelName, str } from './format.js';

/**
 * A test chat request to a serverless endpoint, sent by the page itself to the endpoint's real data-plane URL with
 * the endpoint's primary key (fetched for the request, never displayed).
 */
export function ChatPanel({
  id,
  endpoint,
  onClose,
}: {
  id: string;
  endpoint: ArmResource | undefined;
  onClose(): void;
}) {
  const [prompt, setPrompt] = useState('Hello! In one sentence, what are you?');
  const [sending, setSending] = useState(false);
  const [result, setResult] = useState<ChatResult & { prompt: string }>();
  const [failure, setFailure] = useState<string>();

  const props = (endpoint?.properties ?? {}) as Record<string, unknown>;
  const uri = str((props.inferenceEndpoint as Record<string, unknown> | undefined)?.uri);
  const modelId = str((props.modelSettings as Record<string, unknown> | undefined)?.modelId);

  const send = async (e: Event) => {
    e.preventDefault();
    if (!uri || !prompt.trim()) return;
    setSending(true);
    setFailure(undefined);
    try {
      const keys = await api.keys(id, true);
      setResult({ ...(await chat(uri, keys.primaryKey, prompt)), prompt });
    } catch (err) {
      setFailure((err as Error).message);
    } finally {
      setSending(false);
    }
  };

  return (
    <div class="card chat" data-testid="chat" data-of={id.toLowerCase()}>
      <div class="card-title">
        Test chat <span class="muted">·</span> <span class="strong">{endpoint?.name ?? id.split('/').at(-1)}</span>
        <span class="spacer" />
        <button class="link" onClick={onClose} title="Close">
          close
        </button>
      </div>
      {!endpoint ? (
        <div class="none">This endpoint no longer exists.</div>
      ) : (
        <>
          <div class="mono small muted chat-url">
            POST {uri}/chat/completions{modelId ? ` · ${modelName(modelId)}` : ''}
          </div>
          <form onSubmit={send}>
            <textarea
              data-testid="chat-input"
              rows={3}
              value={prompt}
              onInput={(e) => setPrompt((e.currentTarget as HTMLTextAreaElement).value)}
            />
            <div class="chat-actions">
              <button class="btn primary" type="submit" data-testid="chat-send" disabled={sending || !prompt.trim()}>
                {sending ? 'Sending…' : 'Send'}
              </button>
              {result && (
                <span class="small muted" data-testid="chat-status" data-status={String(result.status)}>
                  HTTP {result.status} · {result.ms} ms
                  {result.usage ? ` · ${result.usage.prompt_tokens} → ${result.usage.completion_tokens} tokens` : ''}
                  {result.finishReason ? ` · ${result.finishReason}` : ''}
                </span>
              )}
            </div>
          </form>
          {failure && (
            <div class="reply reply-error" data-testid="chat-error">
              {failure}
            </div>
          )}
          {result?.error && (
            <div class="reply reply-error" data-testid="chat-error">
              <b>{result.error.code}</b>: {result.error.message}
            </div>
          )}
          {result?.reply !== undefined && (
            <div class="conversation">
              <div class="bubble user">{result.prompt}</div>
              <div class="bubble assistant" data-testid="chat-reply">
                {result.reply}
              </div>
            </div>
          )}
        </>
      )}
    </div>
  );
}
