// The photo and region actions: exemplar layout, edit a photo, restyle a region.
import type { PackInfo } from "../../protocol/index.ts";

export function PhotoActions(props: { pack: PackInfo; enabled: boolean; hasFrame: boolean; onExemplar(): void; onEdit(): void; onRestyle(): void }) {
  const caps = props.pack.capabilities ?? [];
  return (
    <section class="photo-actions" aria-label="Photos and regions">
      {caps.includes("exemplar") ? (
        <button type="button" data-action="exemplar" disabled={!props.enabled} title="New faces laid out like the selected photo (one per variation), beside it" onClick={props.onExemplar}>
          Use selected image as exemplar
        </button>
      ) : null}
      {caps.includes("edit") ? (
        <button
          type="button"
          data-action="edit"
          disabled={!props.enabled}
          title="Reads the selected photo's face parts into a new frame of shapes; Generate on that frame keeps the person"
          onClick={props.onEdit}
        >
          Edit this photo
        </button>
      ) : null}
      {caps.includes("restyle") ? (
        <button
          type="button"
          data-action="restyle"
          disabled={!props.enabled || !props.hasFrame}
          title="Select the shapes of one part (say, the hair): that part comes from a new seed, the rest stays"
          onClick={props.onRestyle}
        >
          Restyle this region
        </button>
      ) : null}
    </section>
  );
}
