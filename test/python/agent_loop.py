"""An agent loop with the openai Python package against an amlite serverless endpoint (test/agent-python.test.ts).

Tools called, results fed back, a final answer (plain and streamed); structured output parsed with pydantic.
Reads AGENT_BASE_URL and AGENT_KEY; prints "agent loop ok" when every check holds.
"""
import json
import os

import openai
from pydantic import BaseModel

client = openai.OpenAI(base_url=os.environ["AGENT_BASE_URL"], api_key=os.environ["AGENT_KEY"])
completions = client.chat.completions if hasattr(client.chat.completions, "parse") else client.beta.chat.completions

TOOLS = [{
    "type": "function",
    "function": {
        "name": "get_weather",
        "strict": True,
        "parameters": {
            "type": "object", "additionalProperties": False, "required": ["city", "unit"],
            "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
        },
    },
}]


def run_loop(stream: bool) -> str:
    messages = [{"role": "user", "content": "What is the weather in Lisbon? Use get_weather."}]
    for _ in range(3):
        if stream:
            with completions.stream(model="m", messages=messages, tools=TOOLS) as s:
                reply = s.get_final_completion()
        else:
            reply = client.chat.completions.create(model="m", messages=messages, tools=TOOLS)
        choice = reply.choices[0]
        if choice.finish_reason != "tool_calls":
            return choice.message.content
        messages.append({"role": "assistant", "content": choice.message.content, "tool_calls": [
            {"id": c.id, "type": "function", "function": {"name": c.function.name, "arguments": c.function.arguments}}
            for c in choice.message.tool_calls]})
        for call in choice.message.tool_calls:
            args = json.loads(call.function.arguments)
            assert set(args) == {"city", "unit"} and args["unit"] in ("celsius", "fahrenheit"), args
            messages.append({"role": "tool", "tool_call_id": call.id, "content": "21 degrees"})
    raise AssertionError("the loop did not end")


class Attendee(BaseModel):
    name: str
    role: str


class Meeting(BaseModel):
    title: str
    minutes: int
    attendees: list[Attendee]


for stream in (False, True):
    answer = run_loop(stream)
    assert "get_weather said 21 degrees" in answer, answer

parsed = completions.parse(model="m", messages=[{"role": "user", "content": "plan"}], response_format=Meeting)
meeting = parsed.choices[0].message.parsed
assert isinstance(meeting, Meeting), meeting

tool = completions.parse(model="m", messages=[{"role": "user", "content": "book"}],
                         tools=[openai.pydantic_function_tool(Meeting)])
assert isinstance(tool.choices[0].message.tool_calls[0].function.parsed_arguments, Meeting)
print("agent loop ok")
