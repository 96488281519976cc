/** A YAML editor with syntax highlighting (CodeMirror 6), loaded only where one opens. */
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { yaml } from "@codemirror/lang-yaml";
import { defaultHighlightStyle, syntaxHighlighting } from "@codemirror/language";
import { EditorState } from "@codemirror/state";
import { EditorView, keymap, lineNumbers } from "@codemirror/view";
import { useEffect, useRef } from "react";

const theme = EditorView.theme({
  "&": { fontSize: "12px", border: "1px solid #94a3b866", borderRadius: "4px" },
  ".cm-content": { fontFamily: "ui-monospace, Menlo, Consolas, monospace", minHeight: "16rem" },
  ".cm-gutters": { background: "transparent", border: "none", color: "#94a3b8" },
});

export default function CodeEditor({ value, onChange, label }: { value: string; onChange: (text: string) => void; label: string }) {
  const box = useRef<HTMLDivElement>(null);
  const changed = useRef(onChange);
  changed.current = onChange;
  useEffect(() => {
    const view = new EditorView({
      parent: box.current!,
      state: EditorState.create({
        doc: value,
        extensions: [
          lineNumbers(),
          history(),
          // Tab indents (YAML needs it); Escape then Tab leaves the editor, as CodeMirror documents.
          keymap.of([...defaultKeymap, ...historyKeymap, indentWithTab]),
          yaml(),
          syntaxHighlighting(defaultHighlightStyle),
          theme,
          EditorView.contentAttributes.of({ "aria-label": label }),
          EditorView.updateListener.of((update) => update.docChanged && changed.current(update.state.doc.toString())),
        ],
      }),
    });
    return () => view.destroy();
    // The editor owns its text once created; `value` only seeds it.
  }, [label]);
  return <div ref={box} className="max-h-[50vh] overflow-auto bg-white dark:bg-slate-950" />;
}
