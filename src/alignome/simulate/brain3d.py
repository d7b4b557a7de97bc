"""Brain anatomy and smooth deformations for the simulated 3D MRI cohort.

Everything here works in millimetres of MNI space. :func:`load_atlas` reads the
skull-stripped MNI152 (ICBM 2009c symmetric) T1 template that nilearn ships
(``nilearn.datasets.MNI152_FILE_PATH``, 1 mm, works offline) and derives:

* **lateral ventricles**: voxels darker than ``0.35`` (template scaled to
  ``[0, 1]``) inside the brain mask (template > 0.1; it has no holes) and inside a box around the centre
  of the brain, keeping the two largest connected components (one per
  hemisphere; about 11 ml together);
* **hippocampi**: no hippocampus atlas ships offline, so each hippocampus is an
  ellipsoid centred at MNI ``(±26, −22, −14)`` mm, semi-axes 6 (left–right) ×
  20 (anterior–posterior) × 7 (inferior–superior) mm, its long axis tilted
  30° so that the head (anterior) lies lower than the tail (3.5 ml per side);
* **entorhinal cortex**: likewise an ellipsoid per side on the anterior parahippocampal gyrus,
  centred at MNI ``(±23, −6, −34)`` mm, semi-axes 5 × 12 × 5 mm, tilted 20° like the
  hippocampus (1.25 ml per side; inside the template brain, 3 mm below and medial to the
  hippocampal head, touching the brain surface as the cortex does);
* **flows**: unit vector fields ``∇(G_σ * mask)`` scaled so that their largest
  norm is 1; sampling along them grows the structure, against them shrinks it.
  Atrophy is integrated along these stationary velocity fields
  (:meth:`Flow.follow`), which keeps the maps smooth and invertible.

The template and masks are smoothed to the resolution of the output grid
(Gaussian of FWHM ≈ the output voxel) and stored on a *source grid* of half
the output spacing (at least 1 mm), from which every scan is sampled once by
linear interpolation (``scipy.ndimage.map_coordinates``, ``order=1``); masks
are kept as partial-volume fractions so that volumes measured on the warped
masks are accurate even at 4 mm.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

from alignome.imaging.mni_files import BRAIN_THRESHOLD, template_path

VENTRICLE_THRESHOLD = 0.35
VENTRICLE_BOX_MM = ((-35.0, 35.0), (-50.0, 35.0), (-10.0, 40.0))
HIPPOCAMPUS_CENTRES_MM = ((-26.0, -22.0, -14.0), (26.0, -22.0, -14.0))
HIPPOCAMPUS_SEMI_AXES_MM = (6.0, 20.0, 7.0)
HIPPOCAMPUS_TILT_DEG = 30.0
ENTORHINAL_CENTRES_MM = ((-23.0, -6.0, -34.0), (23.0, -6.0, -34.0))
ENTORHINAL_SEMI_AXES_MM = (5.0, 12.0, 5.0)
ENTORHINAL_TILT_DEG = 20.0
ENTORHINAL_FLOW_SIGMA_MM = 3.0
VENTRICLE_FLOW_SIGMA_MM = 6.0
HIPPOCAMPUS_FLOW_SIGMA_MM = 3.0
BRAIN_FLOW_SIGMA_MM = 4.0
FLOW_CUTOFF = 1e-2
SUPPORT_MARGIN_MM = 8.0
TEMPLATE_ORIGIN_MM = np.array([-98.0, -134.0, -72.0])


@dataclass(frozen=True)
class Grid:
    """A regular grid in MNI millimetres: voxel ``(i, j, k)`` lies at ``origin + spacing·(i, j, k)``."""

    shape: tuple[int, int, int]
    spacing: float
    origin: np.ndarray

    @property
    def affine(self) -> np.ndarray:
        """4×4 voxel-to-MNI affine."""
        aff = np.eye(4)
        aff[:3, :3] *= self.spacing
        aff[:3, 3] = self.origin
        return aff

    def points(self) -> np.ndarray:
        """``(3, *shape)`` MNI coordinates (mm) of every voxel centre, float64."""
        idx = np.indices(self.shape, dtype=np.float64)
        return idx * self.spacing + self.origin.reshape(3, 1, 1, 1)

    def to_index(self, mm: np.ndarray) -> np.ndarray:
        """Convert ``(3, ...)`` MNI coordinates to fractional voxel indices of this grid."""
        return (mm - self.origin.reshape((3,) + (1,) * (mm.ndim - 1))) / self.spacing


@dataclass(frozen=True)
class Flow:
    """A unit vector field (largest norm 1) pointing into a structure, on a sub-grid where it is non-negligible."""

    grid: Grid
    field: np.ndarray  # (3, *grid.shape)

    def follow(
        self, mm: np.ndarray, distance_mm: float, steps: int | None = None, step_mm: float | None = None
    ) -> np.ndarray:
        """Integrate ``distance_mm · field`` for unit time from every point (Euler steps).

        Sampling a template at the result shows the structure grown by about
        ``distance_mm`` where the field is strongest (shrunk when negative):
        the map is smooth and, for steps small against the field's smoothness,
        invertible.

        Parameters
        ----------
        mm
            ``(3, ...)`` MNI points.
        distance_mm
            Largest displacement of the structure's boundary, mm.
        steps
            Euler steps of equal length; by default one per 2 mm, at least 4 (short steps keep
            large maps unfolded).
        step_mm
            Instead of ``steps``: steps of exactly ``step_mm`` and a shorter last one, the map
            that :meth:`follow_each` measures at many distances at once.

        Returns
        -------
        np.ndarray
            ``(3, ...)`` moved points (a copy).
        """
        x = np.array(mm, dtype=np.float64, copy=True)
        if distance_mm == 0.0:
            return x
        inside = self.inside_box(x)
        if step_mm is not None:
            x[:, inside] = next(self.follow_each(x[:, inside], [distance_mm], step_mm))[1]
            return x
        pts = x[:, inside]
        steps = steps or max(4, int(np.ceil(abs(distance_mm) / 2.0)))
        for _ in range(steps):
            self.step(pts, distance_mm / steps)
        x[:, inside] = pts
        return x

    def follow_each(
        self, mm: np.ndarray, distances: np.ndarray, step_mm: float
    ) -> Iterator[tuple[int, np.ndarray]]:
        """``(i, follow(mm, distances[i], step_mm=step_mm))`` for every distance, in the order walked.

        The steps of ``step_mm`` are shared: walking out to the farthest distance costs one
        step per ``step_mm`` plus one shorter step per distance off that lattice, instead
        of a whole integration per distance.
        """
        distances = np.asarray(distances, dtype=np.float64)
        x = np.array(mm, dtype=np.float64, copy=True)
        inside = self.inside_box(x)
        for sign in (1.0, -1.0):
            chosen = np.flatnonzero(distances >= 0) if sign > 0 else np.flatnonzero(distances < 0)
            pts = x[:, inside]
            done = 0
            for i in chosen[np.argsort(np.abs(distances[chosen]), kind="stable")]:
                full = int(np.floor(abs(distances[i]) / step_mm + 1e-9))
                for _ in range(full - done):
                    self.step(pts, sign * step_mm)
                done = full
                rest = abs(distances[i]) - full * step_mm
                out = x.copy()
                out[:, inside] = pts
                if rest > 1e-9:
                    moved = out[:, inside]
                    self.step(moved, sign * rest)
                    out[:, inside] = moved
                yield int(i), out

    def inside_box(self, x: np.ndarray, margin_voxels: int = 0) -> np.ndarray:
        """Points inside the flow's box, grown by ``margin_voxels`` (the field is ~0 elsewhere, so the
        others never move)."""
        lo = self.grid.origin.reshape((3,) + (1,) * (x.ndim - 1)) - margin_voxels * self.grid.spacing
        hi = lo + self.grid.spacing * (np.array(self.grid.shape).reshape(lo.shape) - 1 + 2 * margin_voxels)
        return np.all((x >= lo) & (x <= hi), axis=0)

    def step(self, pts: np.ndarray, dt: float) -> None:
        """One Euler step of length ``dt`` (mm), in place, for ``(3, n)`` points."""
        idx = self.grid.to_index(pts)
        pts += dt * np.stack([ndi.map_coordinates(f, idx, order=1, mode="constant", cval=0.0) for f in self.field])

    def moves(self, mm: np.ndarray, tolerance: float = 1e-4) -> np.ndarray:
        """Boolean mask of the ``(3, ...)`` points the flow moves (field norm above ``tolerance``)."""
        # "constant" interpolation reads only zeros beyond one voxel outside the box (within it, SciPy
        # versions differ on whether the edge is blended in): farther points cannot move
        near = self.inside_box(mm, margin_voxels=1)
        idx = self.grid.to_index(mm[:, near])
        norm2 = sum(ndi.map_coordinates(f, idx, order=1, mode="constant", cval=0.0) ** 2 for f in self.field)
        out = np.zeros(near.shape, dtype=bool)
        out[near] = norm2 > tolerance**2
        return out


@dataclass(frozen=True)
class BrainAtlas:
    """Template, masks and atrophy flows.

    Attributes
    ----------
    grid
        Source grid of the template and masks (half the output spacing, at least 1 mm).
    t1
        T1 template in ``[0, 1]``, smoothed to the output resolution.
    ventricles, hippocampus, entorhinal, brain
        Partial-volume fractions in ``[0, 1]``.
    reach
        ``1`` within ``SUPPORT_MARGIN_MM`` of the brain, else ``0`` (where images can be non-zero).
    csf
        Template intensity of ventricular CSF (median where ``ventricles > 0.9``).
    ventricle_flow, hippocampus_flow, entorhinal_flow, brain_flow
        Flows into each structure (``σ`` = 6, 3, 3 and 4 mm); following the brain flow
        backwards shrinks the brain from its outer surface (whole-brain atrophy).
    """

    grid: Grid
    t1: np.ndarray
    ventricles: np.ndarray
    hippocampus: np.ndarray
    brain: np.ndarray
    reach: np.ndarray
    csf: float
    ventricle_flow: Flow
    hippocampus_flow: Flow
    brain_flow: Flow
    entorhinal: np.ndarray
    entorhinal_flow: Flow


def output_grid(voxel_mm: float) -> Grid:
    """Output grid of spacing ``voxel_mm`` covering the MNI152 template box.

    The box is x ∈ [−98, 98], y ∈ [−134, 98], z ∈ [−72, 116] mm; at 1 mm this is
    the template's own lattice, at 2 mm nilearn's 99 × 117 × 95 grid, at 4 mm
    50 × 59 × 48.
    """
    extent = np.array([196.0, 232.0, 188.0])
    shape = tuple(int(n) for n in np.floor(extent / voxel_mm + 1e-9).astype(int) + 1)
    return Grid(shape=shape, spacing=float(voxel_mm), origin=TEMPLATE_ORIGIN_MM.copy())


def _template_1mm() -> np.ndarray:
    import nibabel as nib

    img = nib.load(template_path())
    if not np.allclose(img.affine[:3, :3], np.eye(3)) or not np.allclose(img.affine[:3, 3], TEMPLATE_ORIGIN_MM):
        raise RuntimeError(f"unexpected affine of the MNI152 template {template_path()}")
    data = np.asarray(img.dataobj, dtype=np.float32)
    return data / data.max()


def _box_slices(grid: Grid, box_mm: tuple[tuple[float, float], ...]) -> tuple[slice, ...]:
    out = []
    for axis, (lo, hi) in enumerate(box_mm):
        a = int(np.floor((lo - grid.origin[axis]) / grid.spacing))
        b = int(np.ceil((hi - grid.origin[axis]) / grid.spacing)) + 1
        out.append(slice(max(a, 0), min(b, grid.shape[axis])))
    return tuple(out)


def _ventricle_mask(t1: np.ndarray, brain: np.ndarray, grid: Grid) -> np.ndarray:
    box = _box_slices(grid, VENTRICLE_BOX_MM)
    dark = (t1[box] < VENTRICLE_THRESHOLD) & brain[box]
    labels, n = ndi.label(dark)
    if n < 2:
        raise RuntimeError("could not find the lateral ventricles in the MNI152 template")
    sizes = ndi.sum_labels(dark, labels, index=np.arange(1, n + 1))
    keep = np.argsort(sizes)[::-1][:2] + 1
    mask = np.zeros(t1.shape, dtype=bool)
    mask[box] = np.isin(labels, keep)
    return mask


def tilted_ellipsoids(
    points: np.ndarray, centres: tuple[tuple[float, float, float], ...], semi_axes: tuple[float, float, float],
    tilt_deg: float,
) -> np.ndarray:
    """Union of ellipsoids at ``(3, ...)`` MNI points, each long (anterior–posterior) axis rising
    posteriorly by ``tilt_deg`` (the anterior end lies lower)."""
    tilt = np.deg2rad(tilt_deg)
    a, b, c = semi_axes
    inside = np.zeros(np.broadcast_shapes(*(p.shape for p in points)), dtype=bool)
    for cx, cy, cz in centres:
        dx = points[0] - cx
        dy = points[1] - cy
        dz = points[2] - cz
        # rotate about the left-right axis
        u = dy * np.cos(tilt) - dz * np.sin(tilt)
        w = dy * np.sin(tilt) + dz * np.cos(tilt)
        inside |= (dx / a) ** 2 + (u / b) ** 2 + (w / c) ** 2 <= 1.0
    return inside


def hippocampus_mask(points: np.ndarray) -> np.ndarray:
    """Both hippocampi as tilted ellipsoids (see the module docstring) at ``(3, ...)`` MNI points."""
    return tilted_ellipsoids(points, HIPPOCAMPUS_CENTRES_MM, HIPPOCAMPUS_SEMI_AXES_MM, HIPPOCAMPUS_TILT_DEG)


def entorhinal_mask(points: np.ndarray) -> np.ndarray:
    """Both entorhinal cortices as tilted ellipsoids (see the module docstring) at ``(3, ...)`` MNI points."""
    return tilted_ellipsoids(points, ENTORHINAL_CENTRES_MM, ENTORHINAL_SEMI_AXES_MM, ENTORHINAL_TILT_DEG)


def _ellipsoids_1mm(grid: Grid, mask, centres: tuple[tuple[float, float, float], ...],
                    semi_axes: tuple[float, float, float]) -> np.ndarray:
    """``mask`` (a function of MNI points) on ``grid``, evaluated only in the box around ``centres``."""
    reach = max(semi_axes) + 2.0
    box = _box_slices(grid, tuple((min(c[i] for c in centres) - reach, max(c[i] for c in centres) + reach)
                                  for i in range(3)))
    axes = [
        (np.arange(sl.start, sl.stop) * grid.spacing + grid.origin[i]).reshape([-1 if j == i else 1 for j in range(3)])
        for i, sl in enumerate(box)
    ]
    out = np.zeros(grid.shape, dtype=bool)
    out[box] = mask(axes)
    return out


def _flow(mask: np.ndarray, sigma_mm: float, grid: Grid, margin: int = 2) -> Flow:
    smooth = ndi.gaussian_filter(mask.astype(np.float32), sigma_mm / grid.spacing)
    grad = np.stack(np.gradient(smooth), axis=0)
    norm = np.sqrt((grad**2).sum(axis=0))
    grad /= norm.max()
    where = np.argwhere(norm / norm.max() > FLOW_CUTOFF)
    lo = np.maximum(where.min(axis=0) - margin, 0)
    hi = np.minimum(where.max(axis=0) + margin + 1, grid.shape)
    box = tuple(slice(int(a), int(b)) for a, b in zip(lo, hi))
    sub = Grid(shape=tuple(int(b - a) for a, b in zip(lo, hi)), spacing=grid.spacing, origin=grid.origin + grid.spacing * lo)
    return Flow(grid=sub, field=np.ascontiguousarray(grad[(slice(None),) + box], dtype=np.float32))


def load_atlas(voxel_mm: float) -> BrainAtlas:
    """Build the template, masks and flows for an output grid of spacing ``voxel_mm``.

    Parameters
    ----------
    voxel_mm
        Output voxel size in mm; the source grid has spacing ``max(1, voxel_mm / 2)``.

    Returns
    -------
    BrainAtlas
    """
    t1 = _template_1mm()
    grid1 = output_grid(1.0)
    brain = t1 > BRAIN_THRESHOLD  # the template is skull-stripped and has no holes
    ventricles = _ventricle_mask(t1, brain, grid1)
    hippocampus = _ellipsoids_1mm(grid1, hippocampus_mask, HIPPOCAMPUS_CENTRES_MM, HIPPOCAMPUS_SEMI_AXES_MM)
    entorhinal = _ellipsoids_1mm(grid1, entorhinal_mask, ENTORHINAL_CENTRES_MM, ENTORHINAL_SEMI_AXES_MM)

    spacing = max(1.0, voxel_mm / 2.0)
    src = output_grid(spacing)
    # smooth to the output resolution (FWHM ≈ voxel_mm), then sample the source grid
    sigma = np.sqrt(max(voxel_mm**2 - 1.0, 0.0)) / 2.355
    step = int(round(spacing))
    integer_step = abs(spacing - step) < 1e-9

    def resample(vol: np.ndarray) -> np.ndarray:
        vol = vol.astype(np.float32)
        if sigma > 0:
            vol = ndi.gaussian_filter(vol, sigma)
        if integer_step:
            return np.ascontiguousarray(vol[::step, ::step, ::step])
        idx = np.indices(src.shape, dtype=np.float64) * spacing
        return ndi.map_coordinates(vol, idx, order=1, mode="constant", cval=0.0).astype(np.float32)

    vent_src = resample(ventricles)
    hip_src = resample(hippocampus)
    ec_src = resample(entorhinal)
    t1_src = resample(t1)
    brain_src = resample(brain)
    reach = ndi.distance_transform_edt(brain_src < 0.01) * spacing <= SUPPORT_MARGIN_MM
    atlas = BrainAtlas(
        grid=src,
        t1=t1_src,
        ventricles=vent_src,
        hippocampus=hip_src,
        brain=brain_src,
        reach=reach.astype(np.float32),
        csf=float(np.median(t1[ventricles & (ndi.gaussian_filter(ventricles.astype(np.float32), 1.0) > 0.9)])),
        ventricle_flow=_flow(vent_src, VENTRICLE_FLOW_SIGMA_MM, src),
        hippocampus_flow=_flow(hip_src, HIPPOCAMPUS_FLOW_SIGMA_MM, src),
        brain_flow=_flow(brain_src, BRAIN_FLOW_SIGMA_MM, src),
        entorhinal=ec_src,
        entorhinal_flow=_flow(ec_src, ENTORHINAL_FLOW_SIGMA_MM, src),
    )
    for name in ("hippocampus", "entorhinal"):  # the renderer samples these masks near their boxes only
        if not _vanishes_outside_box(getattr(atlas, name), getattr(atlas, f"{name}_flow"), src):
            raise RuntimeError(f"the {name} mask reaches beyond its flow's box at {voxel_mm} mm voxels")
    return atlas


def _vanishes_outside_box(mask: np.ndarray, flow: Flow, grid: Grid) -> bool:
    """Whether ``mask`` (on ``grid``) is exactly zero outside ``flow``'s box (a sub-grid of ``grid``)."""
    lo = np.rint((flow.grid.origin - grid.origin) / grid.spacing).astype(int)
    box = tuple(slice(int(a), int(a) + n) for a, n in zip(lo, flow.grid.shape))
    outside = mask.copy()
    outside[box] = 0.0
    return not outside.any()


def sample(volume: np.ndarray, grid: Grid, mm: np.ndarray, cval: float = 0.0) -> np.ndarray:
    """Linear interpolation of ``volume`` (on ``grid``) at ``(3, ...)`` MNI points."""
    return ndi.map_coordinates(volume, grid.to_index(mm), order=1, mode="constant", cval=cval)


@dataclass(frozen=True)
class SmoothField:
    """A smooth zero-mean Gaussian random field that can be evaluated anywhere in the template box.

    Build it with :meth:`draw`; call it on ``(3, ...)`` MNI points to get
    ``(components, ...)`` values (linear interpolation of a lattice three times
    finer than the correlation length, so the field looks smooth).
    """

    grid: Grid
    values: np.ndarray  # (components, *grid.shape)

    @classmethod
    def draw(cls, rng: np.random.Generator, sigma_mm: float, sd: float, components: int) -> SmoothField:
        """Draw a field of correlation length ``sigma_mm`` and standard deviation ``sd``.

        White noise on a lattice of spacing ``sigma_mm / 3`` covering the template
        box plus a margin of ``2 sigma_mm`` is Gaussian-smoothed (``sigma_mm``)
        and rescaled to standard deviation ``sd``.
        """
        step = sigma_mm / 3.0
        lo = TEMPLATE_ORIGIN_MM - 2 * sigma_mm
        extent = np.array([196.0, 232.0, 188.0]) + 4 * sigma_mm
        shape = tuple(int(n) for n in np.ceil(extent / step).astype(int) + 1)
        values = np.empty((components,) + shape, dtype=np.float32)
        for c in range(components):
            noise = ndi.gaussian_filter(rng.standard_normal(shape, dtype=np.float32), 3.0, mode="wrap", truncate=3.0)
            values[c] = noise * (sd / noise.std())
        return cls(grid=Grid(shape=shape, spacing=step, origin=lo), values=values)

    def __call__(self, points: np.ndarray) -> np.ndarray:
        idx = self.grid.to_index(points)
        return np.stack([ndi.map_coordinates(v, idx, order=1, mode="nearest") for v in self.values])


def rotation(angles_deg: np.ndarray) -> np.ndarray:
    """Rotation matrix for angles (degrees) about the x, y and z axes, applied in that order."""
    ax, ay, az = np.deg2rad(angles_deg)
    rx = np.array([[1, 0, 0], [0, np.cos(ax), -np.sin(ax)], [0, np.sin(ax), np.cos(ax)]])
    ry = np.array([[np.cos(ay), 0, np.sin(ay)], [0, 1, 0], [-np.sin(ay), 0, np.cos(ay)]])
    rz = np.array([[np.cos(az), -np.sin(az), 0], [np.sin(az), np.cos(az), 0], [0, 0, 1]])
    return rz @ ry @ rx
